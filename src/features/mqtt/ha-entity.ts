import { formatMac } from '../../lib/mac.js';
import { compareVersions } from '../../lib/version.js';
import type { RolloutTracking } from '../rollouts/device-outcome.js';
import type { PlatformView, ReleasedImage } from '../update-check/catalogue-snapshot.js';
import { decide } from '../update-check/decide.js';
import type { EspRequest } from '../update-check/esp-request.js';
import type { MqttTopics } from './mqtt-topics.js';

/** What the Home Assistant entity of a device is made from: the fleet's entry for it. */
export interface HaDevice {
  mac: string;
  platformName: string;
  runningVersion: string | null;
  lastDecision: string;
  rollout: RolloutTracking | null;
}

/** The state topic's JSON (Home Assistant's MQTT update platform, JSON state). */
export interface HaUpdateState {
  installed_version: string | null;
  latest_version: string | null;
  title: string;
  release_summary: string;
  release_url?: string;
  in_progress: boolean;
  update_percentage: null;
}

/** What pressing Install would do for the device: pin it to this image (none: nothing to approve). */
export interface UpdateOutlook {
  state: HaUpdateState;
  installTarget: ReleasedImage | { id: number; version: string } | undefined;
}

/** Home Assistant rejects a longer `release_summary`. */
const SUMMARY_LIMIT = 255;

/**
 * The device's update as Home Assistant shows it. `latest_version` is what the server would serve this device now,
 * as the pure `decide()` answers a check from it (its pin, the rollout's stage, the update window): the device asks
 * with what it last reported, on its own behalf (its credentials were checked when it asked itself). When nothing
 * would be served but a newer kept image is there for the asking (a `manual` platform's unreleased upload, a rollout
 * that has not reached the device), that is the latest version and Install approves it for this device.
 */
export function updateOutlook(device: HaDevice, platform: PlatformView, now: number, publicUrl: string): UpdateOutlook {
  const installed = device.runningVersion;
  const decision = decide(
    checkOf(device, platform),
    { ...platform, deviceAuth: NO_AUTH },
    device.rollout ?? undefined,
    now,
  );
  const base = {
    installed_version: installed,
    title: `${platform.name} firmware`,
    in_progress: device.lastDecision === 'serve',
    update_percentage: null,
    ...(publicUrl
      ? { release_url: `${publicUrl.replace(/\/$/, '')}/platforms/${encodeURIComponent(platform.name)}` }
      : {}),
  } as const;
  if (decision.action === 'serve') {
    return {
      state: {
        ...base,
        latest_version: decision.image.version,
        release_summary: summary(
          `${decision.image.version} is offered to this device at its next check (${decision.message})`,
        ),
      },
      installTarget: undefined,
    };
  }
  if (decision.action === 'not-modified' && decision.reason === 'outside-window') {
    return {
      state: {
        ...base,
        latest_version: installed,
        release_summary: summary(`${decision.image?.version ?? 'an update'} waits for the platform's update window`),
      },
      installTarget: undefined,
    };
  }
  const candidate =
    decision.action === 'not-modified' && decision.reason !== 'rollout-failed'
      ? newerImage(device, platform)
      : undefined;
  if (candidate) {
    return {
      state: {
        ...base,
        latest_version: candidate.version,
        release_summary: summary(
          `${candidate.version} is not released to this device yet (${decision.message}); Install releases it to this device`,
        ),
      },
      installTarget: candidate,
    };
  }
  return {
    state: { ...base, latest_version: installed, release_summary: summary(decision.message) },
    installTarget: undefined,
  };
}

/**
 * The image Install would approve: the running rollout's target when the device does not run it, else the newest
 * kept app image newer than what the device runs.
 */
function newerImage(device: HaDevice, platform: PlatformView): { id: number; version: string } | undefined {
  const running = device.runningVersion;
  if (running === null) return undefined;
  const target = platform.rollout?.target;
  if (target && compareVersions(target.version, running) === 1) return target;
  let newest: { id: number; version: string } | undefined;
  for (const image of platform.imageByVersion.values()) {
    if (compareVersions(image.version, running) !== 1) continue;
    if (!newest || compareVersions(image.version, newest.version) === 1) newest = image;
  }
  return newest;
}

const NO_AUTH: PlatformView['deviceAuth'] = { mode: 'off', user: null, secretHash: null, deviceSecrets: new Map() };

/** A check as the device would send it now: its MAC and the version it last reported. */
function checkOf(device: HaDevice, platform: PlatformView): EspRequest {
  return {
    client: 'arduino',
    platform: platform.name,
    mac: device.mac,
    family: undefined,
    mode: 'sketch',
    version: device.runningVersion ?? undefined,
    freeSpace: undefined,
    chipSize: undefined,
    sketchSize: undefined,
    sketchMd5: undefined,
    sketchSha256: undefined,
    sdkVersion: undefined,
    credentials: { basic: undefined, deviceBasic: undefined, tokens: [] },
  };
}

function summary(text: string): string {
  return text.length <= SUMMARY_LIMIT ? text : `${text.slice(0, SUMMARY_LIMIT - 1)}…`;
}

/**
 * The discovery config of a device's `update` entity (retained at `topics.config(mac)`). Keys are those of Home
 * Assistant's MQTT update platform (test/mqtt-ha.test.ts lists them with their source).
 */
export function discoveryConfig(
  device: HaDevice,
  platform: PlatformView,
  topics: MqttTopics,
  publicUrl: string,
): object {
  const chip = platform.app?.family ?? platform.rollout?.target.family;
  return {
    name: 'Firmware',
    unique_id: `${topics.node}_${device.mac}_firmware`,
    device_class: 'firmware',
    entity_category: 'config',
    state_topic: topics.state(device.mac),
    command_topic: topics.install(device.mac),
    payload_install: 'install',
    availability_topic: topics.availability,
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
    device: {
      identifiers: [`${topics.node}_${device.mac}`],
      connections: [['mac', formatMac(device.mac).toLowerCase()]],
      name: `${platform.name} ${formatMac(device.mac)}`,
      manufacturer: 'Espressif',
      ...(chip ? { model: chip.toUpperCase() } : {}),
      ...(device.runningVersion ? { sw_version: device.runningVersion } : {}),
      ...(publicUrl ? { configuration_url: `${publicUrl.replace(/\/$/, '')}/devices/${device.mac}` } : {}),
    },
  };
}
