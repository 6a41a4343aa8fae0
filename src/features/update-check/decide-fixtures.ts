import type { PlatformView, ReleasedImage } from './catalogue-snapshot.js';
import type { EspRequest } from './esp-request.js';

/** A released image, a platform view and a device request for the decision's table tests. */
export const image = (overrides: Partial<ReleasedImage> = {}): ReleasedImage => ({
  id: 1,
  kind: 'app',
  version: '1.2.0',
  size: 500_000,
  md5: 'aa'.repeat(16),
  sha256: 'bb'.repeat(32),
  runningDigests: new Set(['aa'.repeat(16), 'cc'.repeat(16)]),
  family: 'esp8266',
  chip: 'esp8266',
  flashSizeBytes: 4 * 1024 * 1024,
  ...overrides,
});

export const platform = (overrides: Partial<PlatformView> = {}): PlatformView => ({
  id: 1,
  name: 'AirPatrol',
  accessMode: 'allowlist',
  allowlist: new Set(['5ccf7f123456']),
  app: image(),
  filesystem: undefined,
  appPinned: false,
  fsPartitionSize: undefined,
  imageByDigest: new Map([['dd'.repeat(16), { id: 9, version: '1.1.0' }]]),
  imageByVersion: new Map([['1.2.0', { id: 1, version: '1.2.0' }]]),
  deviceAuth: { mode: 'off', user: null, secretHash: null, deviceSecrets: new Map() },
  rollout: undefined,
  pins: new Map(),
  excluded: new Set(),
  window: undefined,
  deviceKeys: new Map(),
  ...overrides,
});

export const request = (overrides: Partial<EspRequest> = {}): EspRequest => ({
  client: 'arduino',
  platform: 'AirPatrol',
  mac: '5ccf7f123456',
  family: 'esp8266',
  mode: 'sketch',
  version: '1.1.0',
  freeSpace: 1_000_000,
  chipSize: 4 * 1024 * 1024,
  sketchSize: 400_000,
  sketchMd5: undefined,
  sketchSha256: undefined,
  sdkVersion: '2.2.2',
  credentials: { basic: undefined, deviceBasic: undefined, tokens: [] },
  ...overrides,
});
