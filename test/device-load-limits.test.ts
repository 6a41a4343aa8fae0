import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * A fleet back after a power cut: the kernel queues `listenBacklog` connections, 1,000 boards connecting at once are
 * all answered, and beyond `maxDeviceRequests` in progress a device gets a quick 503 rather than a stall.
 */

const portOf = (url: string) => Number(new URL(url).port);

/** The accept queue the kernel gives a listening socket: `ss` shows it as Send-Q. */
function listenQueue(port: number): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
    .trim()
    .split('\n')[0]!;
  return Number(line.trim().split(/\s+/)[2]);
}

function somaxconn(): number {
  return Number(execFileSync('cat', ['/proc/sys/net/core/somaxconn'], { encoding: 'utf8' }));
}

/** One check on a connection of its own (as boards do); resolves with the status, or the socket error's code. */
function checkOnNewConnection(url: string, mac: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = httpRequest(
      `${url}/update?dev=Limits&ver=1.0.0`,
      {
        agent: false,
        headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': mac, 'x-esp8266-version': '1.0.0' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    request.end();
  });
}

describe('listen backlog', () => {
  let t: TestApp;
  afterAll(() => t?.stop());

  it('is the configured one (up to the kernel limit)', async () => {
    t = await startTestApp('sqlite', { listenBacklog: 777 });
    expect(listenQueue(portOf(t.url))).toBe(Math.min(777, somaxconn()));
  });
});

describe('1,000 boards at once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Limits', accessMode: 'open' });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Limits;version=1.0.0'] }),
    );
  });
  afterAll(() => t.stop());

  it('are all answered, each on its own connection, with the default limits', async () => {
    expect(listenQueue(portOf(t.url))).toBeGreaterThanOrEqual(Math.min(1000, somaxconn()));
    const mac = (i: number) =>
      `AA:BB:CC:DD:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => checkOnNewConnection(t.url, mac(i))));
    const tally = new Map<number | string, number>();
    for (const r of results) tally.set(r, (tally.get(r) ?? 0) + 1);
    expect(Object.fromEntries(tally)).toEqual({ 304: 1000 });
  }, 60_000);
});

describe('maxDeviceRequests', () => {
  let t: TestApp;
  const slow: Socket[] = [];
  // Larger than what the kernel buffers for a client that does not read, so its download stays in progress.
  const big = buildEsp8266App({
    strings: ['ESP-OTA:platform=Busy;version=2.0.0', 'x'.repeat(12 * 1024 * 1024)],
    flashSizeCode: 9,
  });
  beforeAll(async () => {
    t = await startTestApp('sqlite', { maxDeviceRequests: 2, imageCache: 0, uploadLimit: 32 * 1024 * 1024 });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Busy', accessMode: 'open' });
    const upload = await api(t.url, 'POST', '/api/v1/firmware', big);
    expect(upload.status).toBe(201);
  });
  afterAll(async () => {
    for (const socket of slow) socket.destroy();
    await t.stop();
  });

  /** A board that starts a download and reads only its first bytes: the answer stays in progress. */
  function stalledDownload(mac: string): Promise<Socket> {
    const { port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      slow.push(socket);
      socket.once('error', reject);
      socket.once('readable', () => resolve(socket));
      socket.write(
        esp8266Request(`127.0.0.1:${port}`, '/update?dev=Busy&ver=1.0.0', {
          mac,
          version: '1.0.0',
          freeSpace: 16_000_000,
          chipSize: 16 * 1024 * 1024,
        }),
      );
    });
  }

  it('answers 503 with Retry-After at once beyond the limit, counts it, and serves again when room frees', async () => {
    await stalledDownload('AA:BB:CC:00:00:01');
    await stalledDownload('AA:BB:CC:00:00:02');

    const started = performance.now();
    const turnedAway = await fetch(`${t.url}/update?dev=Busy&ver=2.0.0`, {
      headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': 'AA:BB:CC:00:00:03' },
    });
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.headers.get('retry-after')).toBe('10');
    expect(turnedAway.headers.get('x-ota-reason')).toBe('busy');
    await turnedAway.arrayBuffer();
    expect(performance.now() - started).toBeLessThan(1000);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^esp_ota_device_requests_busy_total 1$/m);

    for (const socket of slow) socket.destroy();
    let status = 0;
    for (let i = 0; i < 50 && status !== 304; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const again = await fetch(`${t.url}/update?dev=Busy&ver=2.0.0`, {
        headers: {
          'user-agent': 'ESP8266-http-Update',
          'x-esp8266-sta-mac': 'AA:BB:CC:00:00:03',
          'x-esp8266-version': '2.0.0',
        },
      });
      status = again.status;
      await again.arrayBuffer();
    }
    expect(status).toBe(304);
  }, 60_000);
});
