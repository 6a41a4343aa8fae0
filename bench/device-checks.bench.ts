/**
 * Device-check and download throughput, each as a ratio against references measured in the same run on this
 * machine: a minimal Node HTTP server answering 304, and nginx (sendfile) serving the same 1 MiB file.
 * Servers run on CPU 0, the load generator (wrk) on CPU 1. Needs `wrk` and `nginx` (Debian packages).
 * Run: npm run bench:devices        (SECONDS=5 per measurement, PREFILL=500000 events in the log, by default)
 *
 * Targets (issue #3): 304 path ≥ 50 % of the minimal Node server with keep-alive and ≥ 80 % with one connection
 * per request; 1 MiB downloads ≥ 100 % of nginx.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseFile, loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createCatalogue } from '../src/features/catalogue.js';
import { buildEsp8266App } from '../test/synthetic/image-builder.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SECONDS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'esp-ota-bench-'));
const children: ChildProcess[] = [];
const TOKEN = 'bench-token-0123456789';
/** Events already in the log when the measurements start (PREFILL=0 for an empty one). */
const PREFILL = Number(process.env.PREFILL ?? 500_000);

function need(command: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  } catch {
    console.error(`${command} is not installed: apt-get install -y wrk nginx-light`);
    process.exit(1);
  }
}

function startOnCpu0(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn('taskset', ['-c', '0', command, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return child;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing answers at ${url}`);
}

/** Requests per second from wrk on CPU 1; `close` sends Connection: close, one TCP connection per request. */
function wrk(
  url: string,
  options: {
    close?: boolean;
    headers?: Record<string, string>;
    connections?: number;
    fleet?: boolean;
    seconds?: number;
  } = {},
): number {
  const headers = Object.entries({ ...options.headers, ...(options.close ? { Connection: 'close' } : {}) }).flatMap(
    ([k, v]) => ['-H', `${k}: ${v}`],
  );
  const script = options.fleet ? ['-s', join(ROOT, 'bench/rotate-macs.lua')] : [];
  const output = execFileSync(
    'taskset',
    [
      '-c',
      '1',
      'wrk',
      '-t1',
      `-c${options.connections ?? 32}`,
      `-d${options.seconds ?? SECONDS}s`,
      ...script,
      ...headers,
      url,
    ],
    {
      encoding: 'utf8',
    },
  );
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses from ${url}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]);
}

/** Fills a data folder's database with the fleet's past checks, through the stores the server itself uses. */
async function prefill(dataDir: string): Promise<void> {
  const db = createDatabase({ kind: 'sqlite', file: databaseFile(loadConfig({ env: {}, flags: { data: dataDir } })) });
  await migrateToLatest(db);
  const { stores } = createCatalogue(db);
  const started = Date.now() - PREFILL; // one check a millisecond, up to now
  const fleetMac = (n: number) => `5ccf7f00${(n % 10_000).toString(16).padStart(4, '0')}`;
  for (let first = 0; first < PREFILL; first += 10_000) {
    const count = Math.min(10_000, PREFILL - first);
    const checks = Array.from({ length: count }, (_, i) => ({
      at: started + first + i,
      type: 'check',
      platform_name: 'Bench',
      mac: fleetMac(first + i),
      from_version: '2.0.0',
      to_version: null,
      decision: 'not-modified',
      reason: 'current',
      detail: 'the device runs the released version',
      status: 304,
    }));
    await stores.events.append(checks);
    await stores.devices.record(
      checks.map((check) => ({
        mac: check.mac,
        platform_id: null,
        platform_name: 'Bench',
        family: 'esp8266',
        ip: '127.0.0.1',
        reported_version: '2.0.0',
        sdk_version: null,
        free_space: 3_000_000,
        chip_size: null,
        sketch_md5: null,
        first_seen_at: check.at,
        last_seen_at: check.at,
        check_count: 1,
        download_count: 0,
        downloaded_image_id: null,
        downloads_of_release: 0,
        last_decision: 'not-modified',
        last_reason: 'current',
      })),
    );
  }
  await db.destroy();
}

async function main(): Promise<void> {
  need('wrk');
  need('nginx');
  need('taskset');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

  // A 1 MiB Arduino image, served by everyone.
  const image = buildEsp8266App({ strings: ['ESP-OTA:platform=Bench;version=2.0.0', 'x'.repeat(1024 * 1024 - 4400)] });
  writeFileSync(join(work, 'firmware.bin'), image);

  // References.
  writeFileSync(
    join(work, 'minimal.mjs'),
    "import http from 'node:http'; http.createServer((q, s) => { s.statusCode = 304; s.end(); }).listen(18301, '127.0.0.1');\n",
  );
  startOnCpu0(process.execPath, [join(work, 'minimal.mjs')]);
  writeFileSync(
    join(work, 'nginx.conf'),
    `daemon off; user root; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path ${work}/nginx-body; proxy_temp_path ${work}/nginx-proxy; fastcgi_temp_path ${work}/nginx-fcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi; scgi_temp_path ${work}/nginx-scgi;
  server { listen 127.0.0.1:18302; root ${work};
    location = /update { return 304; }
    location = /firmware.bin { default_type application/octet-stream; } } }\n`,
  );
  startOnCpu0('nginx', ['-c', join(work, 'nginx.conf')]);

  // A server that has been up for a while: its event log holds PREFILL checks of the fleet (the default retention
  // keeps a million), and every device of the fleet is known. Writing a check costs more as the log grows.
  await prefill(join(work, 'data'));

  // Our server, as `npm start` runs it (info-level JSON logs, here to /dev/null).
  startOnCpu0(
    process.execPath,
    [join(ROOT, 'bin/esp-ota.js'), 'serve', '--host', '127.0.0.1', '--port', '18303', '--data', join(work, 'data')],
    { ESP_OTA_API_TOKEN: TOKEN, ESP_OTA_ADMIN_PASSWORD: 'bench-password-0123' },
  );
  await Promise.all(
    ['http://127.0.0.1:18301/', 'http://127.0.0.1:18302/firmware.bin', 'http://127.0.0.1:18303/healthz'].map(waitFor),
  );
  const ours = 'http://127.0.0.1:18303';
  await fetch(`${ours}/api/v1/platforms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', accessMode: 'open' }),
  });
  const upload = await fetch(`${ours}/api/v1/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(image),
  });
  if (upload.status !== 201) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);

  const device = (version: string) => ({
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-STA-MAC': '5C:CF:7F:12:34:56',
    'x-ESP8266-version': version,
    'x-ESP8266-free-space': '3000000',
  });
  const measure = (name: string, oursRate: number, reference: number, target: number) => {
    console.log(
      `${name.padEnd(44)} ours ${oursRate.toFixed(0).padStart(7)}/s  reference ${reference.toFixed(0).padStart(7)}/s  ratio ${((oursRate / reference) * 100).toFixed(0).padStart(4)} %  (target ≥ ${target} %)`,
    );
  };

  // Warm-up, not measured: the JIT compiles the hot paths and the fleet's device rows get created, so the runs below
  // measure the steady state of a server that has been up for a while.
  wrk('http://127.0.0.1:18301/update', { seconds: 3 });
  wrk(`${ours}/update?dev=Bench&ver=2.0.0`, { headers: device('2.0.0'), fleet: true, seconds: 3 });

  const node304 = wrk('http://127.0.0.1:18301/update');
  const nginx304 = wrk('http://127.0.0.1:18302/update');
  // "fleet": 10,000 devices take turns (each check writes its device row and an event); "one device": the same
  // MAC every time, so the per-flush device write is shared by all checks.
  const ours304 = wrk(`${ours}/update?dev=Bench&ver=2.0.0`, { headers: device('2.0.0'), fleet: true });
  measure('304 keep-alive (fleet) vs minimal Node', ours304, node304, 50);
  measure(
    '304 keep-alive (one device) vs minimal Node',
    wrk(`${ours}/update?dev=Bench&ver=2.0.0`, { headers: device('2.0.0') }),
    node304,
    50,
  );
  console.log(`${''.padEnd(44)} (nginx ${nginx304.toFixed(0)}/s)`);

  const node304c = wrk('http://127.0.0.1:18301/update', { close: true });
  const nginx304c = wrk('http://127.0.0.1:18302/update', { close: true });
  const ours304c = wrk(`${ours}/update?dev=Bench&ver=2.0.0`, { close: true, headers: device('2.0.0'), fleet: true });
  measure('304, connection per request (fleet) vs Node', ours304c, node304c, 80);
  console.log(`${''.padEnd(44)} (nginx ${nginx304c.toFixed(0)}/s)`);

  const nginxGet = wrk('http://127.0.0.1:18302/firmware.bin', { connections: 16 });
  const oursGet = wrk(`${ours}/update?dev=Bench&ver=1.0.0`, { headers: device('1.0.0'), connections: 16, fleet: true });
  measure('1 MiB downloads keep-alive vs nginx', oursGet, nginxGet, 100);
  const nginxGetC = wrk('http://127.0.0.1:18302/firmware.bin', { close: true, connections: 16 });
  const oursGetC = wrk(`${ours}/update?dev=Bench&ver=1.0.0`, {
    close: true,
    headers: device('1.0.0'),
    connections: 16,
    fleet: true,
  });
  measure('1 MiB downloads, one connection each, vs nginx', oursGetC, nginxGetC, 100);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
    setTimeout(() => rmSync(work, { recursive: true, force: true }), 500);
  });
