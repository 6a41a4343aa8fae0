/**
 * Downloads of a 1 MiB image whose bytes live in PostgreSQL (the `blobs` table), issue 13 §3 "Blobs": is PostgreSQL
 * the bottleneck? Three figures from one run, each against the warm one measured in the same run:
 *
 * - warm: the server's image cache holds the image (the steady state of a released image);
 * - cold: a freshly started server (its cache empty) answering a burst from the first request on;
 * - uncached: `imageCache = 0`, every download streamed from PostgreSQL in 64 KiB `substr` reads (what every
 *   download would cost if images did not fit the cache).
 *
 * The server runs on CPU 0, wrk on CPU 1, PostgreSQL wherever the OS puts it (it is shared; its own buffer cache is
 * not dropped, so "cold" means the server's cache, not PostgreSQL's).
 * Needs `wrk` and a PostgreSQL server: ESP_OTA_BENCH_PG_URL (default: ESP_OTA_TEST_PG_URL, or
 * postgres://postgres@127.0.0.1:5432/test); a database of its own is created and dropped.
 * Run: node --import tsx bench/pg-blob-downloads.bench.ts   (SECONDS=5 per measurement by default)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildEsp8266App } from '../test/synthetic/image-builder.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 8;
const PG_URL =
  process.env.ESP_OTA_BENCH_PG_URL ?? process.env.ESP_OTA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = 'bench-token-0123456789';
/** A port of its own (other benchmarks on the machine use 183xx). */
const PORT = 20000 + Math.floor(Math.random() * 20000);
const ours = `http://127.0.0.1:${PORT}`;
const work = mkdtempSync(join(tmpdir(), 'esp-ota-pg-bench-'));
const dbName = `esp_ota_bench_${process.pid}`;
const dbUrl = Object.assign(new URL(PG_URL), { pathname: `/${dbName}` }).toString();
let server: ChildProcess | undefined;

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function startServer(env: NodeJS.ProcessEnv = {}): Promise<void> {
  server = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'src/main.ts'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--data',
      join(work, 'data'),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        ESP_OTA_DATABASE_URL: dbUrl,
        ESP_OTA_API_TOKEN: TOKEN,
        ESP_OTA_ADMIN_PASSWORD: 'bench-password-0123',
        ESP_OTA_LOG_LEVEL: 'warn',
        ...env,
      },
    },
  );
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${ours}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not start');
}

async function stopServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const device = {
  'User-Agent': 'ESP8266-http-Update',
  'x-ESP8266-STA-MAC': '5C:CF:7F:12:34:56',
  'x-ESP8266-version': '1.0.0',
  'x-ESP8266-free-space': '3000000',
};
const url = `${ours}/update?dev=Bench&ver=1.0.0`;

/** Downloads per second from wrk on CPU 1. */
function wrk(seconds = SECONDS): number {
  const headers = Object.entries(device).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const output = execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, ...headers, url],
    { encoding: 'utf8' },
  );
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]);
}

async function firstDownloadMs(): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: device });
  const body = await response.arrayBuffer();
  if (response.status !== 200 || body.byteLength < 1_000_000) throw new Error(`download failed: ${response.status}`);
  return performance.now() - started;
}

try {
  execFileSync('sh', ['-c', 'command -v wrk && command -v taskset'], { stdio: 'ignore' });
  await admin(`create database ${dbName}`);
  const image = buildEsp8266App({ strings: ['ESP-OTA:platform=Bench;version=2.0.0', 'x'.repeat(1024 * 1024 - 4400)] });
  const mib = image.length / 1024 / 1024;

  await startServer();
  const auth = { authorization: `Bearer ${TOKEN}` };
  await fetch(`${ours}/api/v1/platforms`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', accessMode: 'open' }),
  });
  const upload = await fetch(`${ours}/api/v1/firmware`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(image),
  });
  if (upload.status !== 201) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);

  // Warm: the JIT and the image cache warmed by a short run first.
  wrk(2);
  const warm = wrk();

  // Cold: a new process, its cache empty; the first download, then a burst from the start.
  await stopServer();
  await startServer();
  const coldFirst = await firstDownloadMs();
  const warmFirst = await firstDownloadMs();
  await stopServer();
  await startServer();
  const cold = wrk();

  // Uncached: every download read from PostgreSQL.
  await stopServer();
  await startServer({ ESP_OTA_IMAGE_CACHE: '0' });
  wrk(2);
  const uncached = wrk();
  await stopServer();

  const line = (name: string, rate: number) =>
    console.log(
      `${name.padEnd(46)} ${rate.toFixed(0).padStart(6)} downloads/s  ${(rate * mib).toFixed(0).padStart(5)} MiB/s  ratio ${((rate / warm) * 100).toFixed(0).padStart(4)} % of warm`,
    );
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; server on CPU 0, wrk on CPU 1 (${CONNECTIONS} connections, ${SECONDS} s each); image ${image.length} bytes`,
  );
  line('warm (image in the server cache)', warm);
  line('cold (new process, burst from the first request)', cold);
  line('uncached (imageCache 0: every download from PG)', uncached);
  console.log(
    `first download after a restart ${coldFirst.toFixed(1)} ms, the next ${warmFirst.toFixed(1)} ms (ratio ${(coldFirst / warmFirst).toFixed(1)} ×)`,
  );
} finally {
  await stopServer().catch(() => undefined);
  await admin(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
