import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { image, platform, request } from './decide-fixtures.js';
import { minimalView, parseTasmotaFile, sendsGzip, startsTwoStep } from './client-views.js';

describe('Tasmota file names (protocol.md §6.3)', () => {
  it.each([
    ['tasmota.bin', false, false],
    ['tasmota.bin.gz', false, true],
    ['tasmota-DE.bin', false, false],
    ['tasmota-minimal.bin', true, false],
    ['tasmota-minimal.bin.gz', true, true],
    ['firmware-minimal.ino.bin.gz', true, true],
    ['tasmota', false, false],
  ])('%s: minimal %s, gzip %s', (name, minimal, gzip) => {
    expect(parseTasmotaFile(name)).toEqual({ minimal, gzip });
  });

  it.each(['', '.bin', '../x.bin', 'a b.bin', 'x'.repeat(101)])('refuses %j', (name) => {
    expect(parseTasmotaFile(name)).toBeUndefined();
  });
});

describe('the minimal view', () => {
  const minimal = image({ id: 7, version: '1.2.0', size: 300_000, md5: 'ee'.repeat(16), runningDigests: new Set() });

  it('is the same decision over the paired image, admission and window unchanged', () => {
    const view = platform({ minimal });
    expect(decide(request(), minimalView(view))).toMatchObject({ action: 'serve', image: { id: 7 } });
    expect(decide(request({ mac: '001122334455' }), minimalView(view))).toMatchObject({ reason: 'not-allowed' });
    expect(decide(request(), minimalView(platform()))).toMatchObject({ reason: 'nothing-released' });
  });

  it('starts the two-step upgrade only for size and flash refusals of a platform with a minimal image', () => {
    expect(startsTwoStep(platform({ minimal }), 'too-large')).toBe(true);
    expect(startsTwoStep(platform({ minimal }), 'flash-too-small')).toBe(true);
    expect(startsTwoStep(platform({ minimal }), 'not-allowed')).toBe(false);
    expect(startsTwoStep(platform(), 'too-large')).toBe(false);
  });
});

describe('who gets gzip on the Arduino route (protocol.md §6.4)', () => {
  const gzippable = image({ gzippable: true });
  const modern = new Map([['dd'.repeat(16), { id: 9, version: '1.1.0', takesGzip: true as const }]]);
  const old = new Map([['dd'.repeat(16), { id: 9, version: '1.1.0' }]]);
  const device = request({ sketchMd5: 'dd'.repeat(16) });

  it('off unless the platform asks', () => {
    expect(sendsGzip(platform({ imageByDigest: modern }), device, gzippable)).toBe(false);
    expect(sendsGzip(platform({ esp8266Gzip: 'off', imageByDigest: modern }), device, gzippable)).toBe(false);
  });

  it('on: every ESP8266 device in sketch mode, for an image that can be compressed', () => {
    const on = platform({ esp8266Gzip: 'on', imageByDigest: old });
    expect(sendsGzip(on, device, gzippable)).toBe(true);
    expect(sendsGzip(on, device, image())).toBe(false);
    expect(sendsGzip(on, request({ family: 'esp32' }), gzippable)).toBe(false);
    expect(sendsGzip(on, request({ mode: 'littlefs' }), gzippable)).toBe(false);
  });

  it('auto: only a device whose running image we know was built with core ≥ 2.7', () => {
    expect(sendsGzip(platform({ esp8266Gzip: 'auto', imageByDigest: modern }), device, gzippable)).toBe(true);
    expect(sendsGzip(platform({ esp8266Gzip: 'auto', imageByDigest: old }), device, gzippable)).toBe(false);
    const byVersion = platform({
      esp8266Gzip: 'auto',
      imageByVersion: new Map([['1.1.0~0', { id: 9, version: '1.1.0', takesGzip: true as const }]]),
    });
    expect(sendsGzip(byVersion, request({ version: '1.1.0' }), gzippable)).toBe(true);
    // Its digest names no image we keep: whatever version it claims, its core is unknown.
    expect(sendsGzip(byVersion, request({ version: '1.1.0', sketchMd5: 'ab'.repeat(16) }), gzippable)).toBe(false);
  });
});
