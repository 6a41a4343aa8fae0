import { describe, expect, it } from 'vitest';
import { MalformedRequestError, parseEspRequest } from './esp-request.js';

describe('parseEspRequest', () => {
  it('reads an ESP32 request, falling back from an empty STA MAC to the BASE MAC', () => {
    const request = parseEspRequest(
      { dev: 'AirPatrol', ver: 'v1.0.0' },
      {
        'user-agent': 'ESP32-http-Update',
        'x-esp32-sta-mac': '',
        'x-esp32-base-mac': '24:0A:C4:00:11:22',
        'x-esp32-free-space': '1966080',
        'x-esp32-sketch-sha256': 'ab'.repeat(32),
        'x-esp32-mode': 'LittleFS',
        'x-esp32-version': 'v1.0.1',
      },
    );
    expect(request).toMatchObject({
      family: 'esp32',
      mac: '240ac4001122',
      freeSpace: 1966080,
      sketchSha256: 'AB'.repeat(32),
      mode: 'littlefs',
      version: 'v1.0.1', // the header wins over the query
    });
  });

  it('knows the family from the User-Agent when no device header is sent', () => {
    expect(parseEspRequest({ dev: 'x', ver: '1' }, { 'user-agent': 'ESP8266-http-Update' }).family).toBe('esp8266');
    expect(parseEspRequest({ dev: 'x', ver: '1' }, {}).family).toBeUndefined();
  });

  it.each([
    [{}, {}],
    [{ dev: 'x'.repeat(65) }, {}],
    [{ dev: 'x', ver: 'a\u0001b' }, {}],
    [{ dev: 'x' }, { 'x-esp8266-chip-size': '-1' }],
    [{ dev: 'x' }, { 'x-esp8266-sketch-md5': 'g'.repeat(32) }],
    [{ dev: 'x' }, { 'x-esp8266-sta-mac': 'zz' }],
  ])('refuses %j %j', (query, headers) => {
    expect(() => parseEspRequest(query, headers)).toThrow(MalformedRequestError);
  });
});
