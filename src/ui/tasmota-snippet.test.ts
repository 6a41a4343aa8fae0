import { describe, expect, it } from 'vitest';
import { tasmotaSnippet } from './tasmota-snippet.js';

const platform = {
  chip: 'esp8266',
  device_auth: 'off' as const,
  device_user: null,
  minimal_platform_id: null,
};

describe('the Tasmota OtaUrl snippet', () => {
  it('points OtaUrl at the platform’s .bin.gz name and upgrades', () => {
    const snippet = tasmotaSnippet({ serverUrl: 'https://ota.example:8443', name: 'Plug Hall', platform });
    expect(snippet?.code).toBe('Backlog OtaUrl https://ota.example:8443/tasmota/Plug%20Hall/tasmota.bin.gz; Upgrade 1');
  });

  it('writes the device login into the URL, secrets as placeholders', () => {
    const basic = tasmotaSnippet({
      serverUrl: 'http://ota.local',
      name: 'Plug',
      platform: { ...platform, device_auth: 'basic', device_user: 'fleet' },
    });
    expect(basic?.code).toContain('http://fleet:DEVICE-SECRET@ota.local/tasmota/Plug/tasmota.bin.gz');
    const token = tasmotaSnippet({
      serverUrl: 'http://ota.local',
      name: 'Plug',
      platform: { ...platform, device_auth: 'token' },
    });
    expect(token?.code).toContain('/tasmota/Plug/tasmota.bin.gz?token=DEVICE-TOKEN');
  });

  it('is offered for ESP8266 platforms and platforms of any chip, not for ESP32 ones', () => {
    expect(tasmotaSnippet({ serverUrl: 'http://a', name: 'P', platform: undefined })).toBeDefined();
    expect(tasmotaSnippet({ serverUrl: 'http://a', name: 'P', platform: { ...platform, chip: null } })).toBeDefined();
    expect(
      tasmotaSnippet({ serverUrl: 'http://a', name: 'P', platform: { ...platform, chip: 'esp32' } }),
    ).toBeUndefined();
  });
});
