import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { decide, speaksForDevice } from './decide.js';
import { image, platform, request } from './decide-fixtures.js';

describe('decide', () => {
  it.each([
    ['older version → serve', request(), platform(), 'serve', 'newer-version'],
    ['same version → 304', request({ version: 'v1.2.0' }), platform(), 'not-modified', 'current'],
    ['newer device → 304', request({ version: '2.0.0' }), platform(), 'not-modified', 'device-newer'],
    [
      'newer device, pinned release → rollback',
      request({ version: '2.0.0' }),
      platform({ appPinned: true }),
      'serve',
      'rollback',
    ],
    [
      'opaque versions that differ → serve',
      request({ version: '3d4085c-dirty' }),
      platform(),
      'serve',
      'different-version',
    ],
    [
      'running the release by MD5, no version → 304',
      request({ version: undefined, sketchMd5: 'cc'.repeat(16) }),
      platform(),
      'not-modified',
      'current',
    ],
    [
      'known older image by MD5 → serve',
      request({ version: undefined, sketchMd5: 'dd'.repeat(16) }),
      platform(),
      'serve',
      'newer-version',
    ],
    [
      'unknown image by MD5 → serve',
      request({ version: undefined, sketchMd5: 'ee'.repeat(16) }),
      platform(),
      'serve',
      'different-version',
    ],
    ['nothing to go on → 400', request({ version: undefined }), platform(), 'refuse', 'version-unknown'],
    ['unknown platform → 404', request(), undefined, 'refuse', 'unknown-platform'],
    ['no MAC on an allowlist platform → 403', request({ mac: undefined }), platform(), 'refuse', 'mac-required'],
    ['unlisted MAC → 403', request({ mac: '000000000001' }), platform(), 'refuse', 'not-allowed'],
    [
      'unlisted MAC on an open platform → serve',
      request({ mac: '000000000001' }),
      platform({ accessMode: 'open' }),
      'serve',
      'newer-version',
    ],
    ['nothing released → 304', request(), platform({ app: undefined }), 'not-modified', 'nothing-released'],
    [
      'ESP32 asking for an ESP8266 image → 403',
      request({ family: 'esp32' }),
      platform(),
      'refuse',
      'wrong-chip-family',
    ],
    ['too large for free space → 403', request({ freeSpace: 499_999 }), platform(), 'refuse', 'too-large'],
    ['flash too small → 403', request({ chipSize: 1024 * 1024 }), platform(), 'refuse', 'flash-too-small'],
    [
      'filesystem mode, none released → 304',
      request({ mode: 'spiffs' }),
      platform(),
      'not-modified',
      'nothing-released',
    ],
    [
      'filesystem mode gets the filesystem image',
      request({ mode: 'littlefs', version: 'fs-1' }),
      platform({ filesystem: image({ kind: 'filesystem', version: 'fs-2', family: undefined }) }),
      'serve',
      'different-version',
    ],
    [
      'filesystem larger than the partition → 403',
      request({ mode: 'spiffs', version: '1' }),
      platform({ fsPartitionSize: 10, filesystem: image({ kind: 'filesystem', version: '2' }) }),
      'refuse',
      'too-large',
    ],
    [
      'version mode announces the release',
      request({ mode: 'version' }),
      platform(),
      'announce-version',
      'version-query',
    ],
    [
      'direct client always gets the release',
      request({ client: 'direct', version: undefined, family: undefined }),
      platform(),
      'serve',
      'direct-download',
    ],
  ] as const)('%s', (_name, req, view, action, reason) => {
    const decision = decide(req, view);
    expect(decision).toMatchObject({ action, reason });
    if (decision.action === 'serve' && req.mode !== 'sketch') expect(decision.image.kind).toBe('filesystem');
  });
});

describe('which decisions may write the device inventory (issue 11)', () => {
  const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');
  const guarded = platform({
    accessMode: 'open',
    deviceAuth: { mode: 'basic', user: 'fleet', secretHash: hash('platform-secret-0000'), deviceSecrets: new Map() },
  });
  const withBasic = (user: string, password: string) =>
    request({ credentials: { basic: { user, password }, deviceBasic: { mac: user, password }, tokens: [] } });

  it.each([
    ['unknown platform (404)', request(), undefined, 'unknown-platform', false],
    ['no credentials (401)', request(), guarded, 'auth-required', false],
    ['wrong credentials (403)', withBasic('fleet', 'not-the-secret'), guarded, 'bad-credentials', false],
    ['authenticated, offered the release', withBasic('fleet', 'platform-secret-0000'), guarded, 'newer-version', true],
    [
      'authentication off, not on the allowlist (403)',
      request({ mac: '000000000001' }),
      platform(),
      'not-allowed',
      true,
    ],
    ['authentication off, too large (403)', request({ freeSpace: 1 }), platform(), 'too-large', true],
    ['authentication off, no version (400)', request({ version: undefined }), platform(), 'version-unknown', true],
  ] as const)('%s', (_name, req, view, reason, speaks) => {
    const decision = decide(req, view);
    expect(decision.reason).toBe(reason);
    expect(speaksForDevice(decision)).toBe(speaks);
  });
});
