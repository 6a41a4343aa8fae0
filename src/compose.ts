import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server as SecureServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectOrphanBlobs } from './blobs/blob-collector.js';
import type { BlobStore } from './blobs/blob-store.js';
import type { Config } from './config.js';
import { reclaimFreePages, type Database } from './db/database.js';
import type { Catalogue } from './features/catalogue.js';
import { registerActivityRoutes } from './features/devices/device-routes.js';
import { FirmwareService } from './features/firmware/firmware-service.js';
import { FleetReader } from './features/fleet/fleet-reader.js';
import { registerFirmwareRoutes } from './features/firmware/firmware-routes.js';
import { InstallAssetService } from './features/install/install-asset-service.js';
import { registerInstallRoutes } from './features/install/install-routes.js';
import { PlatformService } from './features/platforms/platform-service.js';
import { DevicePinService } from './features/groups/device-pin-service.js';
import { GroupService } from './features/groups/group-service.js';
import { registerGroupRoutes } from './features/groups/group-routes.js';
import { DeviceKeyService } from './features/device-keys/device-key-service.js';
import { registerDeviceKeyRoutes } from './features/device-keys/device-key-routes.js';
import { registerPlatformRoutes } from './features/platforms/platform-routes.js';
import { PlatformKeyService } from './features/signing/platform-key-service.js';
import { registerPlatformKeyRoutes } from './features/signing/platform-key-routes.js';
import { createServerSigner } from './features/signing/server-signer.js';
import { Metrics } from './features/metrics/metrics.js';
import { DeletionFollowUp } from './features/maintenance/deletion-follow-up.js';
import { runMaintenance } from './features/maintenance/maintenance.js';
import { onceAcrossInstances } from './features/maintenance/maintenance-lock.js';
import { registerMetricsRoutes } from './features/metrics/metrics-routes.js';
import { registerRolloutMetrics } from './features/metrics/rollout-metrics.js';
import { registerMqttMetrics } from './features/metrics/mqtt-metrics.js';
import { DomainEvents } from './features/events/domain-events.js';
import { DEFAULT_WEBHOOK_OPTIONS, WebhookDispatcher } from './features/webhooks/webhook-dispatcher.js';
import { registerWebhookRoutes } from './features/webhooks/webhook-routes.js';
import { WebhookService } from './features/webhooks/webhook-service.js';
import { MqttBridge } from './features/mqtt/mqtt-bridge.js';
import { MqttLink, type MqttLinkStatus } from './features/mqtt/mqtt-link.js';
import { MqttTopics } from './features/mqtt/mqtt-topics.js';
import { Fleet } from './features/fleet/fleet.js';
import { RolloutService } from './features/rollouts/rollout-service.js';
import { registerRolloutRoutes } from './features/rollouts/rollout-routes.js';
import { rolloutOverview } from './features/rollouts/rollout-overview.js';
import { CatalogueView } from './features/update-check/catalogue-view.js';
import { startChangeFeed } from './features/update-check/change-feed.js';
import { ImageCache } from './features/update-check/image-cache.js';
import { UpdateCheckService } from './features/update-check/update-check-service.js';
import { createDeviceEndpoint, DEVICE_ROUTES } from './features/update-check/device-endpoint.js';
import { registerReportRoute } from './features/update-check/report-route.js';
import { GzipCopies } from './features/update-check/gzip-copies.js';
import { createHttpServer, createPlainSibling } from './http/server.js';
import { useHtmlErrors } from './http/error-handler.js';
import { renderErrorPage } from './ui/html-errors.js';
import { registerStaticRoutes } from './ui/static-routes.js';
import { registerUiRoutes } from './ui/ui-routes.js';
import { systemClock, type Clock } from './lib/clock.js';
import { openStorage } from './storage.js';
import { BufferedLogDestination } from './lib/log-destination.js';
import { createLogger } from './lib/logger.js';
import { proxyTrust } from './lib/trusted-proxies.js';
import { AuthService } from './features/auth/auth-service.js';
import { AuthStore } from './features/auth/auth-store.js';
import { registerAuthRoutes } from './features/auth/auth-routes.js';

export interface App {
  config: Config;
  http: FastifyInstance;
  db: Database;
  catalogue: Catalogue;
  platforms: PlatformService;
  /** The public keys each platform's boards trust (issue 17). */
  platformKeys: PlatformKeyService;
  firmware: FirmwareService;
  /** Releases' install assets and the ESP Web Tools manifest (issue 15 item 2). */
  install: InstallAssetService;
  /** Staged rollouts: start, pause, resume, advance, abort, roll back. */
  rollouts: RolloutService;
  /** Device groups (canary, excluded, pinned) and pins of single devices. */
  groups: GroupService;
  pins: DevicePinService;
  /** Every known device in memory, how checks are recorded, and the rollout monitor. */
  fleet: Fleet;
  /** What happened, for MQTT and webhooks: events once committed, device changes. */
  domainEvents: DomainEvents;
  /** Webhook endpoints (admins) and the dispatcher that delivers events to them. */
  webhooks: WebhookService;
  webhookDispatcher: WebhookDispatcher;
  /** The MQTT link and Home Assistant bridge, when `mqttUrl` is set. */
  mqtt: { bridge: MqttBridge; status(): MqttLinkStatus } | undefined;
  /** Writes all device activity now (changes, events and heartbeats): what tests read after checks. */
  flushActivity(): Promise<void>;
  view: CatalogueView;
  blobs: BlobStore;
  auth: AuthService;
  collectOrphans(): Promise<number>;
  /**
   * Retention, SQLite housekeeping and the orphan collector; also runs at start and every maintenanceIntervalMs.
   * False when another instance on the same PostgreSQL database was running the pass (it runs once across them).
   */
  maintain(): Promise<boolean>;
  /** Listens on config.host:config.port (and httpPort beside HTTPS); resolves to the bound address. */
  listen(): Promise<string>;
  /** Re-reads the TLS certificate and key (SIGHUP); false when TLS is off. */
  reloadTls(): boolean;
  /** Stops accepting connections, lets in-flight requests finish, flushes queued events, closes the database. */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Default: the server's own (src/lib/logger.ts) on stdout; tests capture lines with createLogger too. */
  logger?: Logger;
  clock?: Clock;
  /** Shows the first start's random admin password once (default: a line on stderr). */
  announce?: (password: string) => void;
}

/** Reads the PEM files, failing with a message that names the file. */
function loadTls(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  if (!certPath || !keyPath) throw new Error('HTTPS needs both tlsCert and tlsKey');
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  return { cert: read(certPath, 'certificate'), key: read(keyPath, 'key') };
}

function announceOnStderr(password: string): void {
  process.stderr.write(
    `\nesp-ota-server: created the account "admin" with password ${password}\n` +
      'This is the only time it is shown. Log in and change it, or set it with: esp-ota user passwd admin\n\n',
  );
}

/** The broker as people may see it: scheme, host and port (the URL carries no credentials; config.ts checks). */
function brokerAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

/** The MQTT link and the Home Assistant bridge over it, subscribed to the domain events and catalogue reloads. */
function startMqtt(
  config: Config,
  parts: {
    fleet: Fleet;
    view: CatalogueView;
    pins: DevicePinService;
    clock: Clock;
    logger: Logger;
    domainEvents: DomainEvents;
  },
): { bridge: MqttBridge; status(): MqttLinkStatus; close(): Promise<void> } {
  const { fleet, view, pins, clock, logger, domainEvents } = parts;
  const topics = new MqttTopics(config.mqttTopicPrefix, config.mqttDiscoveryPrefix);
  const link = new MqttLink(
    {
      url: config.mqttUrl,
      username: config.mqttUsername,
      password: config.mqttPassword,
      ca: config.mqttCaFile ? readFileSync(config.mqttCaFile) : undefined,
      clientId: config.mqttClientId,
      availabilityTopic: topics.availability,
      queueLimit: config.mqttQueueLimit,
    },
    () => clock.now(),
  );
  const bridge = new MqttBridge({
    link,
    topics,
    devices: fleet.registry,
    platforms: () => view.all(),
    fleetReady: () => fleet.ready(),
    approve: async (mac, version, platform, actor) => {
      await pins.pin(mac, version, actor, platform);
    },
    now: () => clock.now(),
    publicUrl: config.publicUrl,
    log: logger,
  });
  const unsubscribe = domainEvents.subscribe((event) => bridge.handle(event));
  view.onLoaded(() => bridge.catalogueLoaded());
  bridge.start();
  return {
    bridge,
    status: () => link.snapshot(),
    close: async () => {
      unsubscribe();
      await bridge.close();
      await link.close();
    },
  };
}

/** The composition root: config → database → stores → blobs → services → HTTP. Nothing else builds these. */
export async function createApp(config: Config, options: ComposeOptions = {}): Promise<App> {
  // Lines are buffered up to 64 KiB and flushed at least every 250 ms, so a busy server does not pay a system call
  // per device check and an idle one still shows each line promptly (log-destination.ts).
  const logger = options.logger ?? createLogger(config.logLevel, new BufferedLogDestination(1));
  const logFlusher = setInterval(() => logger.flush(), 250);
  logFlusher.unref();
  const clock = options.clock ?? systemClock;
  const { db, catalogue, blobs } = await openStorage(config, logger, clock);

  const view = new CatalogueView(catalogue, clock, { refreshMs: config.catalogueRefreshMs });
  const images = new ImageCache(blobs, config.imageCache);
  const onChange = () => view.invalidate();
  const collectOrphans = () =>
    collectOrphanBlobs(
      blobs,
      () => catalogue.stores.images.referencedBlobs(),
      config.orphanGraceMs,
      clock.now(),
      logger,
    );
  const afterDeletes = new DeletionFollowUp(
    config.orphanGraceMs,
    clock,
    async () => {
      await collectOrphans();
      await reclaimFreePages(db);
    },
    logger,
  );
  const onDelete = () => afterDeletes.deleted();
  const platforms = new PlatformService(catalogue, clock, onChange, onDelete);
  const platformKeys = new PlatformKeyService(catalogue, clock, (sha256) => blobs.read(sha256), onChange);
  // A rollout's transition reloads the view at once (not at the next check), so device statuses follow it.
  const rollouts = new RolloutService(catalogue, clock, () => {
    view.invalidate();
    void view.all().catch(() => undefined);
  });
  const firmware = new FirmwareService(catalogue, blobs, clock, config.uploadLimit, onChange, onDelete, {
    signer: createServerSigner(config),
    // Release policy `rollout`: a certain upload starts a rollout from the platform's template.
    startRollout: async (platformName, imageId, actor) => {
      await rollouts.start(platformName, { imageId }, actor);
    },
  });
  const install = new InstallAssetService(catalogue, blobs, clock, config.uploadLimit, onDelete);
  const groups = new GroupService(catalogue, clock, onChange);
  const pins = new DevicePinService(catalogue, clock, onChange, (mac) => fleet.registry.get(mac)?.platformName);
  const deviceKeys = new DeviceKeyService(catalogue, clock, onChange);
  const reader = new FleetReader(catalogue, () => fleet.registry.summary);
  const metrics = new Metrics({
    queuedEvents: () => fleet.writer.queued,
    devicesSeenWithin: (windowMs) => fleet.registry.seen.countSince(clock.now(), windowMs),
  });
  const fleet = new Fleet(
    catalogue,
    view,
    {
      changeFlushMs: config.eventFlushMs,
      sightingFlushMs: config.deviceSeenFlushMs,
      refusalEventIntervalMs: config.refusalEventIntervalMs,
      monitorIntervalMs: config.rolloutMonitorMs,
      versionSampleMs: config.versionSampleMs,
    },
    logger,
    (rolloutId, stageIndex, verdict) => rollouts.applyVerdict(rolloutId, stageIndex, verdict),
    (outcome, rows) => metrics.activityFailure(outcome, rows),
    () => clock.now(),
  );
  registerRolloutMetrics(metrics.registry, async () =>
    [...(await view.all()).values()].flatMap((p) =>
      p.rollout
        ? [
            {
              platform: p.name,
              state: p.rollout.state,
              percent: p.rollout.percent,
              devices: fleet.rolloutDevices(p.rollout.id),
            },
          ]
        : [],
    ),
  );
  const domainEvents = new DomainEvents((err) => logger.error({ err }, 'a domain event listener failed'));
  catalogue.onEventsCommitted((events) => {
    for (const event of events) domainEvents.publish({ kind: 'recorded', event });
  });
  fleet.publish = (event) => domainEvents.publish(event);
  const mqtt = config.mqttUrl ? startMqtt(config, { fleet, view, pins, clock, logger, domainEvents }) : undefined;
  if (mqtt) registerMqttMetrics(metrics.registry, mqtt.status);
  const webhookDispatcher = new WebhookDispatcher(
    {
      hooks: () => catalogue.stores.webhooks.list(),
      record: (delivery) => catalogue.stores.webhooks.recordDelivery(delivery),
      now: () => clock.now(),
      log: logger,
    },
    {
      ...DEFAULT_WEBHOOK_OPTIONS,
      retryDelaysMs: [1, 5, 30, 120, 600].map((factor) => factor * config.webhookRetryMs),
    },
  );
  void webhookDispatcher.reload();
  domainEvents.subscribe((event) => webhookDispatcher.handle(event));
  const webhooks = new WebhookService(catalogue, clock, () => void webhookDispatcher.reload());
  void fleet.start().catch((err: unknown) => logger.error({ err }, 'could not load the device registry'));
  // Several instances on one PostgreSQL database hear each other's catalogue and device changes (LISTEN/NOTIFY).
  const changeFeed = config.databaseUrl
    ? await startChangeFeed({ url: config.databaseUrl, db, catalogue, view, fleet, log: logger })
    : undefined;
  // A copy is made once per image, so reading the image from storage for it is rare.
  const gzipCopies = new GzipCopies((sha256) => blobs.read(sha256));
  const updates = new UpdateCheckService(view, images, fleet, clock, metrics, gzipCopies);
  const auth = new AuthService(new AuthStore(db), clock, config.apiToken);

  let closing = false;
  // One trust decision for the device endpoint and Fastify (login limits, request.ip, request.protocol).
  const trustProxy = proxyTrust(config.trustProxy);
  const deviceEndpoint = createDeviceEndpoint(updates, {
    trustProxy,
    log: logger,
    observe: (route, method, status, seconds) => metrics.request(route, method, status, seconds),
    closing: () => closing,
    maxRequests: config.maxDeviceRequests,
    busy: () => metrics.busyDeviceRequest(),
    offloadPrefix: config.downloadOffload || undefined,
    publicUrl: config.publicUrl || undefined,
  });

  const readTls = () => (config.tlsCert || config.tlsKey ? loadTls(config.tlsCert, config.tlsKey) : undefined);
  const http = await createHttpServer({
    logger,
    auth,
    tls: readTls(),
    uploadLimit: config.uploadLimit,
    trustProxy,
    front: { handle: deviceEndpoint, routes: DEVICE_ROUTES },
  });
  let plainServer: HttpServer | undefined;
  // People's requests (and /healthz) wait until the first admin account exists, which is made only once listening
  // (see listen): a login right after the first start must not find no account. Device requests do not pass here.
  let accountsReady!: () => void;
  const accounts = new Promise<void>((resolve) => (accountsReady = resolve));
  http.addHook('onRequest', async () => {
    await accounts;
  });
  registerMetricsRoutes(http, metrics, config.metricsToken);
  registerPlatformRoutes(http, platforms, reader);
  registerPlatformKeyRoutes(http, platformKeys);
  registerFirmwareRoutes(http, firmware, reader, config.uploadLimit, metrics);
  registerInstallRoutes(http, install);
  registerRolloutRoutes(http, rollouts, (id) => fleet.rolloutDevices(id));
  registerActivityRoutes(http, reader, () => clock.now());
  registerReportRoute(http, { view, fleet, clock, metrics });
  registerGroupRoutes(http, groups, pins);
  registerDeviceKeyRoutes(http, deviceKeys);
  registerWebhookRoutes(http, webhooks, (id) => webhookDispatcher.last.get(id));
  useHtmlErrors(http, renderErrorPage);
  registerStaticRoutes(http);
  registerUiRoutes(http, {
    reader,
    platforms,
    firmware,
    rollouts,
    rolloutOverview: (name) => rolloutOverview(rollouts, fleet, name),
    groups,
    pins,
    deviceKeys,
    platformKeys,
    install,
    auth,
    now: () => clock.now(),
    publicUrl: config.publicUrl,
    deviceVersions: (platformId) => fleet.registry.summary.platform(platformId).byVersion,
    integrations: async () => ({
      mqtt: mqtt && {
        ...mqtt.status(),
        broker: brokerAddress(config.mqttUrl),
        topicPrefix: config.mqttTopicPrefix,
        discoveryPrefix: config.mqttDiscoveryPrefix,
      },
      webhooks: await Promise.all(
        (await webhooks.list()).map(async (hook) => ({
          ...hook,
          lastDelivery: webhookDispatcher.last.get(hook.id),
          deliveries: await webhooks.deliveries(hook.id, 20),
        })),
      ),
    }),
  });
  registerAuthRoutes(http, auth);

  const maintenancePass = async () => {
    // Once across instances on one PostgreSQL database (an advisory lock); each forgets pruned devices itself.
    const pass = await onceAcrossInstances(db, async () => {
      const report = await runMaintenance(db, catalogue, config, clock.now());
      if (report.eventsByAge || report.eventsByCount || report.devices) logger.info(report, 'pruned old activity');
      await collectOrphans();
    });
    await fleet.forgetNotSeenSince(clock.now() - config.deviceRetentionDays * 86_400_000);
    return pass.ran;
  };
  // A pass asked for while this process runs one joins it (it would only find its own lock taken and skip).
  let maintaining: Promise<boolean> | undefined;
  const maintain = () => (maintaining ??= maintenancePass().finally(() => (maintaining = undefined)));
  // The first pass runs once the server listens (see listen()): after a long outage it may have millions of events
  // to prune, and devices should be answered meanwhile rather than wait for it.
  const collector = setInterval(
    () => void maintain().catch((err: unknown) => logger.error({ err }, 'maintenance failed')),
    config.maintenanceIntervalMs,
  );
  collector.unref();

  let closed: Promise<void> | undefined;
  return {
    config,
    http,
    db,
    catalogue,
    platforms,
    platformKeys,
    firmware,
    install,
    rollouts,
    groups,
    pins,
    fleet,
    domainEvents,
    webhooks,
    webhookDispatcher,
    mqtt,
    flushActivity: () => fleet.writer.flush(true),
    view,
    blobs,
    auth,
    collectOrphans,
    maintain,
    listen: async () => {
      const address = await http.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
      if (config.tlsCert && config.httpPort) {
        // The same routes over plain HTTP, for boards on the LAN that cannot do TLS.
        plainServer = createPlainSibling(http);
        await new Promise<void>((resolve, reject) =>
          plainServer!.once('error', reject).listen(config.httpPort, config.host, config.listenBacklog, resolve),
        );
      }
      // Only once listening: a start that fails (port taken) must not show a password and use it up, leaving the
      // next start to show none.
      try {
        const admin = await auth.ensureAdmin(config.adminPassword);
        if (admin.password) (options.announce ?? announceOnStderr)(admin.password);
      } finally {
        accountsReady();
      }
      setImmediate(
        () =>
          void maintain().catch((err: unknown) => {
            if (!closing) logger.error({ err }, 'maintenance failed');
          }),
      );
      return address;
    },
    reloadTls: () => {
      const tls = readTls();
      if (!tls) return false;
      (http.server as unknown as SecureServer).setSecureContext(tls);
      return true;
    },
    close: () =>
      (closed ??= (async () => {
        closing = true;
        clearInterval(collector);
        await afterDeletes.stop();
        clearInterval(logFlusher);
        await new Promise<void>((resolve) => (plainServer ? plainServer.close(() => resolve()) : resolve()));
        await http.close();
        await fleet.close();
        await mqtt?.close();
        webhookDispatcher.close();
        await changeFeed?.close();
        await db.destroy();
        logger.flush();
      })()),
  };
}
