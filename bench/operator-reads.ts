/**
 * What operators and Prometheus read, timed against a server holding a large fleet (bench/fleet.bench.ts,
 * bench/operator-reads.bench.ts): the REST reads and the pages that show the fleet, each median of 5, with a 200 ms
 * target each.
 */
import { verdict } from './bench-kit.js';

async function login(base: string, password: string): Promise<string> {
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password }),
    redirect: 'manual',
  });
  const cookie = response.headers.get('set-cookie');
  if (!cookie) throw new Error(`login failed: ${response.status}`);
  return cookie.split(';')[0]!;
}

async function timed(
  url: string,
  headers: Record<string, string>,
): Promise<{ ms: number; bytes: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  const body = await response.arrayBuffer();
  return { ms: performance.now() - started, bytes: body.byteLength, status: response.status };
}

async function json<T>(url: string, headers: Record<string, string>): Promise<T> {
  const response = await fetch(url, { headers });
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * Each read the operator makes, timed (median of 5) with its size and the 200 ms target. `probeMac`: a device whose
 * history to read (by default the one in the middle of fleet.bench.ts's fill).
 */
export async function measureReads(
  base: string,
  token: string,
  password: string,
  devices: number,
  probeMac?: string,
): Promise<void> {
  const api = { authorization: `Bearer ${token}` };
  const page = { cookie: await login(base, password) };
  const someMac =
    probeMac ??
    `5ccf7f${Math.floor(devices / 2)
      .toString(16)
      .padStart(6, '0')}`;
  type List = { next: string | null };
  // Cursors for a page deep in a list: one request each, not timed.
  const secondPage = async (query: string) => (await json<List>(`${base}/api/v1/devices?${query}`, api)).next ?? 'none';
  const seenCursor = await secondPage('limit=100');
  const versionCursor = await secondPage('platform=Fleet&sort=version&limit=100');
  const reads: [string, string, Record<string, string>][] = [
    ['REST devices, newest 100', '/api/v1/devices?limit=100', api],
    ['REST devices, newest, 2nd page (cursor)', `/api/v1/devices?limit=100&after=${seenCursor}`, api],
    ['REST devices by platform', '/api/v1/devices?platform=Fleet&limit=100', api],
    ['REST devices by status (refused)', '/api/v1/devices?status=refused&limit=100', api],
    ['REST devices by platform + status', '/api/v1/devices?platform=Fleet&status=refused&limit=100', api],
    ['REST devices outdated (platform)', '/api/v1/devices?platform=Fleet&outdated=true&limit=100', api],
    ['REST devices by version', '/api/v1/devices?version=1.9.0&limit=100', api],
    ['REST devices by chip', '/api/v1/devices?chip=esp32&limit=100', api],
    ['REST devices seen within 1 h', '/api/v1/devices?seenWithinHours=1&limit=100', api],
    ['REST devices sorted by version', '/api/v1/devices?platform=Fleet&sort=version&limit=100', api],
    [
      'REST devices by version, 2nd page',
      `/api/v1/devices?platform=Fleet&sort=version&limit=100&after=${versionCursor}`,
      api,
    ],
    ['REST devices sorted by MAC', '/api/v1/devices?sort=mac&limit=100', api],
    ['REST devices search MAC part "7f00ab"', '/api/v1/devices?search=7f00ab&limit=100', api],
    ['REST devices search MAC prefix "5ccf7f0a"', '/api/v1/devices?search=5c:cf:7f:0a&limit=100', api],
    ['REST devices search label "kitchen lamp 7"', '/api/v1/devices?search=kitchen%20lamp%207&limit=100', api],
    ["REST one device's history", `/api/v1/events?mac=${someMac}&limit=100`, api],
    ['REST newest events', '/api/v1/events?limit=100', api],
    ['REST events, 2nd page', '/api/v1/events?limit=100&before=1000', api],
    ['page: dashboard (counts per version/status)', '/', page],
    ['page: devices', '/devices', page],
    ['page: devices, outdated on Lamp', '/devices?platform=Lamp&outdated=1', page],
    ['page: devices (search "7f00ab")', '/devices?q=7f00ab', page],
    ['page: devices sorted by version', '/devices?sort=version', page],
    ['page: platform', '/platforms/Fleet', page],
    ['page: one device', `/devices/${someMac}`, page],
    ['GET /metrics', '/metrics', {}],
  ];
  let within = 0;
  for (const [name, path, headers] of reads) {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await timed(base + path, headers));
    runs.sort((a, b) => a.ms - b.ms);
    const median = runs[2]!;
    const status = median.status === 200 ? '' : ` (status ${median.status})`;
    const pass = median.ms <= 200 && median.status === 200;
    if (pass) within++;
    console.log(
      `  ${name.padEnd(44)} ${median.ms.toFixed(0).padStart(5)} ms  ${(median.bytes / 1024).toFixed(0).padStart(5)} KiB${status}  ${verdict(pass)}`,
    );
  }
  console.log(`  ${within} of ${reads.length} reads within 200 ms (median of 5 each)`);
}

/** The dashboard and /metrics loaded every `intervalMs` until stopped; says how long they took. */
export async function startOperatorLoad(
  base: string,
  _token: string,
  password: string,
  intervalMs: number,
): Promise<{ stop(): Promise<string>; rounds(): number }> {
  const page = { cookie: await login(base, password) };
  const dashboard: number[] = [];
  const metrics: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const [d, m] = await Promise.all([timed(`${base}/`, page), timed(`${base}/metrics`, {})]);
      dashboard.push(d.ms);
      metrics.push(m.ms);
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - started))));
    }
  })();
  const max = (values: number[]) => Math.max(...values).toFixed(0);
  return {
    rounds: () => dashboard.length,
    stop: async () => {
      running = false;
      await loop;
      return `${dashboard.length} dashboard loads, slowest ${max(dashboard)} ms; /metrics slowest ${max(metrics)} ms`;
    },
  };
}
