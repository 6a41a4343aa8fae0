import type { NewEvent } from '../../db/tables.js';
import type { DomainEvent } from '../events/domain-events.js';
import { eventJson } from '../events/event-json.js';
import type { DeviceEntry } from '../fleet/device-entry.js';
import type { PlatformView } from '../update-check/catalogue-snapshot.js';
import { discoveryConfig, updateOutlook } from './ha-entity.js';
import type { MqttLink } from './mqtt-link.js';
import type { MqttTopics } from './mqtt-topics.js';

export interface MqttBridgeDeps {
  link: MqttLink;
  topics: MqttTopics;
  devices: { get(mac: string): DeviceEntry | undefined; entries(): IterableIterator<DeviceEntry> };
  /** Every platform, as device checks see them now. */
  platforms(): Promise<ReadonlyMap<string, PlatformView>>;
  /** Resolves once the fleet is loaded (undefined: it is). */
  fleetReady(): Promise<void> | undefined;
  /** Releases `version` to this one device (a pin of its own), as `actor`. */
  approve(mac: string, version: string, platform: string, actor: string): Promise<void>;
  now(): number;
  publicUrl: string;
  log: {
    info(object: unknown, message: string): void;
    warn(object: unknown, message: string): void;
    error(object: unknown, message: string): void;
  };
  /** How often every entity is recomputed (an update window opens or closes without any change): default 60 s. */
  refreshMs?: number;
}

/** Who approved an update from Home Assistant, as events name them. */
export const HOME_ASSISTANT_ACTOR = 'home-assistant';

/** Devices recomputed per event-loop turn. */
const SYNC_CHUNK = 500;

/**
 * The fleet in Home Assistant, over MQTT (README "Home Assistant and MQTT"): one `update` entity per known device
 * (retained discovery config and state), Install commands, and the event log on `<prefix>/events/<platform>`.
 * It hears what changed through the domain events (`handle`) and catalogue reloads (`catalogueLoaded`), marks the
 * devices concerned, and recomputes them a moment later, off the device check's path: a device whose entity did
 * not change publishes nothing.
 */
export class MqttBridge {
  /** What was published per device (its config and state JSON), to publish only what changed and to republish. */
  private readonly published = new Map<string, { config: string; state: string }>();
  private readonly dirty = new Set<string>();
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private commands: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: MqttBridgeDeps) {}

  start(): void {
    const { link, topics } = this.deps;
    link.onConnect = () => this.republish();
    link.onMessage = (topic, payload) => {
      this.commands = this.commands.then(() =>
        this.command(topic, payload).catch((err: unknown) =>
          this.deps.log.error({ err }, 'an install command from MQTT failed'),
        ),
      );
    };
    link.subscribe(topics.installSubscription);
    link.start();
    void Promise.resolve(this.deps.fleetReady()).then(() => this.markAll());
    this.refreshTimer = setInterval(() => this.markAll(), this.deps.refreshMs ?? 60_000);
    this.refreshTimer.unref();
  }

  /** A domain event: queue the device's recomputation, or send an event of the log. Cheap: no work is done here. */
  handle(event: DomainEvent): void {
    if (this.closed) return;
    if (event.kind !== 'recorded') {
      this.mark(event.mac);
      return;
    }
    this.publishEvent(event.event);
    // A change someone made (a person, a token, the rollout monitor: events with an actor; device activity has
    // none) may change what every device is offered: recompute them now rather than at the next catalogue reload.
    if (event.event.actor) this.markAll();
  }

  /** The catalogue was reloaded (a release, rollout, pin, deletion): every entity may have changed. */
  catalogueLoaded(): void {
    this.markAll();
  }

  /** Resolves when the devices marked so far have been published (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.dirty.size > 0 || this.syncTimer) {
      if (this.syncTimer) {
        clearTimeout(this.syncTimer);
        this.syncTimer = undefined;
        this.syncing = this.syncing.then(() => this.sync());
      }
      await this.syncing;
    }
    await this.syncing;
    await this.commands;
  }

  async close(): Promise<void> {
    await this.settled();
    this.closed = true;
    clearInterval(this.refreshTimer);
    clearTimeout(this.syncTimer);
  }

  private mark(mac: string): void {
    this.dirty.add(mac);
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      this.syncing = this.syncing.then(() => this.sync());
    }, 20);
  }

  private markAll(): void {
    if (this.closed || this.deps.fleetReady() !== undefined) return;
    for (const entry of this.deps.devices.entries()) this.dirty.add(entry.mac);
    for (const mac of this.published.keys()) this.dirty.add(mac);
    if (this.dirty.size > 0) this.mark(this.dirty.values().next().value!);
  }

  private async sync(): Promise<void> {
    const platforms = await this.deps.platforms().catch((err: unknown) => {
      this.deps.log.error({ err }, 'MQTT: could not read the catalogue; entities are published later');
      return undefined;
    });
    if (!platforms) {
      if (this.dirty.size) this.syncTimer ??= setTimeout(() => this.mark(this.dirty.values().next().value!), 5000);
      return;
    }
    const byId = new Map([...platforms.values()].map((p) => [p.id, p]));
    const macs = [...this.dirty];
    this.dirty.clear();
    const now = this.deps.now();
    for (let i = 0; i < macs.length; i++) {
      if (i > 0 && i % SYNC_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      this.syncDevice(macs[i]!, byId, now);
    }
  }

  private syncDevice(mac: string, platforms: ReadonlyMap<number, PlatformView>, now: number): void {
    const { link, topics, publicUrl } = this.deps;
    const entry = this.deps.devices.get(mac);
    const platform = entry?.platformId === null || !entry ? undefined : platforms.get(entry.platformId);
    if (!entry || !platform) {
      // Forgotten, or its platform was deleted: an empty retained config removes the entity from Home Assistant.
      if (!this.published.delete(mac)) return;
      link.publish(topics.config(mac), '', true);
      link.publish(topics.state(mac), '', true);
      return;
    }
    const config = JSON.stringify(discoveryConfig(entry, platform, topics, publicUrl));
    const state = JSON.stringify(updateOutlook(entry, platform, now, publicUrl).state);
    const before = this.published.get(mac);
    if (before?.config !== config) link.publish(topics.config(mac), config, true);
    if (before?.state !== state) link.publish(topics.state(mac), state, true);
    this.published.set(mac, { config, state });
  }

  /** After a (re)connect: the broker may have lost every retained topic (a restart without persistence). */
  private republish(): void {
    const { link, topics } = this.deps;
    for (const [mac, { config, state }] of this.published) {
      link.publish(topics.config(mac), config, true);
      link.publish(topics.state(mac), state, true);
    }
    this.markAll();
  }

  private async command(topic: string, payload: Buffer): Promise<void> {
    const { topics, log } = this.deps;
    const mac = topics.installMac(topic);
    if (!mac) return;
    if (payload.toString('utf8').trim() !== 'install') {
      // The payload is whatever anyone on the broker sent: its length is logged, never its text.
      log.warn({ mac, bytes: payload.length }, 'MQTT: ignored a command that is not "install"');
      return;
    }
    const entry = this.deps.devices.get(mac);
    const platforms = await this.deps.platforms();
    const platform =
      entry?.platformId == null ? undefined : [...platforms.values()].find((p) => p.id === entry.platformId);
    if (!entry || !platform) {
      log.warn({ mac }, 'MQTT: an install command names a device this server does not know');
      return;
    }
    const target = updateOutlook(entry, platform, this.deps.now(), this.deps.publicUrl).installTarget;
    if (!target) {
      log.info(
        { mac, platform: platform.name },
        'MQTT: install command, but there is nothing to approve for the device',
      );
      this.mark(mac);
      return;
    }
    await this.deps.approve(mac, target.version, platform.name, HOME_ASSISTANT_ACTOR);
    log.info({ mac, platform: platform.name, version: target.version }, 'MQTT: update approved from Home Assistant');
    this.mark(mac);
  }

  private publishEvent(event: NewEvent): void {
    this.deps.link.publish(
      this.deps.topics.events(event.platform_name ?? null),
      JSON.stringify(eventJson(event)),
      false,
    );
  }
}
