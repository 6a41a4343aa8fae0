import { describe, expect, it } from 'vitest';
import {
  ESP32FOTA_MANIFEST_LIMIT,
  esp32FotaManifest,
  esphomeChipFamily,
  esphomeManifest,
  macFromEsp32FotaId,
} from './client-manifests.js';
import { decide } from './decide.js';
import { image, platform, request } from './decide-fixtures.js';

const links = { imagePath: '/ota/AirPatrol/d/KEY/firmware.bin?ver=1.1.0', releaseUrl: undefined };

describe('client manifests as views of the decision', () => {
  it('names ESPHome variants as ESPHOME_VARIANT does (protocol.md §6.1)', () => {
    expect(esphomeChipFamily({ chip: 'esp8266', family: 'esp8266' })).toBe('ESP8266');
    expect(esphomeChipFamily({ chip: 'esp32', family: 'esp32' })).toBe('ESP32');
    expect(esphomeChipFamily({ chip: 'esp32c3', family: 'esp32' })).toBe('ESP32-C3');
    expect(esphomeChipFamily({ chip: 'esp32c61', family: 'esp32' })).toBe('ESP32-C61');
    expect(esphomeChipFamily({ chip: 'esp32s3', family: 'esp32' })).toBe('ESP32-S3');
    expect(esphomeChipFamily({ chip: undefined, family: 'esp8266' })).toBe('ESP8266');
  });

  it('reads esp32FOTA ids as ESP.getEfuseMac(): six MAC bytes, the first one lowest', () => {
    // 24:0A:C4:12:34:56 → 0x563412C40A24
    expect(macFromEsp32FotaId(String(0x563412c40a24))).toBe('240ac4123456');
    expect(macFromEsp32FotaId('0')).toBe('000000000000');
    expect(macFromEsp32FotaId(String(2 ** 48 - 1))).toBe('ffffffffffff');
    for (const bad of [String(2 ** 48), '-1', '1e5', '0x10', ' 1', '1234567890123456', ''])
      expect(macFromEsp32FotaId(bad)).toBeUndefined();
  });

  it('ESPHome: the served image, the version to stay on, or no manifest when no version is known', () => {
    const served = esphomeManifest(decide(request({ version: '1.1.0' }), platform()), request(), 'AirPatrol', links);
    expect(served.kind === 'json' && JSON.parse(served.body.toString())).toEqual({
      name: 'AirPatrol',
      version: '1.2.0',
      builds: [
        { chipFamily: 'ESP8266', ota: { path: links.imagePath, md5: 'aa'.repeat(16), summary: '1.1.0 → 1.2.0' } },
      ],
    });
    const newer = request({ version: 'v2.0.0' });
    const stay = esphomeManifest(decide(newer, platform()), newer, 'AirPatrol', links);
    // The device's own string, byte for byte: ESPHome compares with `==`.
    expect(stay.kind === 'json' && (JSON.parse(stay.body.toString()) as { version: string }).version).toBe('v2.0.0');
    const unknown = request({ version: undefined, client: 'direct' });
    const outside = decide(
      unknown,
      platform({ window: { fromMinute: 0, toMinute: 60, timeZone: 'UTC' } }),
      undefined,
      12 * 3600_000,
    );
    expect(outside.action).toBe('not-modified');
    expect(esphomeManifest(outside, unknown, 'AirPatrol', links)).toMatchObject({ kind: 'status', status: 304 });
    const refused = decide(request({ mac: '5ccf7f999999' }), platform());
    expect(esphomeManifest(refused, request(), 'AirPatrol', links)).toMatchObject({
      status: 403,
      reason: 'not-allowed',
    });
  });

  it('esp32FOTA: one entry without a leading v, [] for nothing to do, small for a 2 KB parser', () => {
    const direct = request({ client: 'direct', version: undefined, family: 'esp32' });
    const p = platform({ app: image({ version: 'v1.2.0', family: 'esp32', chip: 'esp32' }) });
    const longName = 'P'.repeat(64);
    const url = `https://${'h'.repeat(200)}/ota/${longName}/app.bin?mac=24%3A0A%3AC4%3A12%3A34%3A56&token=${'t'.repeat(128)}`;
    const served = esp32FotaManifest(decide(direct, p), longName, url);
    expect(served.kind).toBe('json');
    if (served.kind !== 'json') return;
    expect(JSON.parse(served.body.toString())).toEqual([{ type: longName, version: '1.2.0', url }]);
    expect(served.body.length).toBeLessThan(ESP32FOTA_MANIFEST_LIMIT / 2);
    const nothing = esp32FotaManifest(decide(direct, platform({ app: undefined })), 'AirPatrol', url);
    expect(nothing.kind === 'json' && nothing.body.toString()).toBe('[]');
  });
});
