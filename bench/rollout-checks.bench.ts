/**
 * What a running rollout costs a device check (issue 12 §5): 100,000 known devices poll in turn, first with no
 * rollout, then with a rollout at its first stage (1 %: every check computes the device's bucket, 99 % are told
 * 304 rollout-pending, the admitted 1 % are sent the small new image until they count as failed), then with none
 * again. The two runs without bracket the one with, so drift on a shared machine shows as their difference.
 * The server runs on CPU 0, wrk on CPU 1. Needs `wrk` and `taskset`.
 * Run: npm run bench:rollout          (SECONDS=5 per measurement by default)
 *
 * Target: checks with a running rollout ≥ 90 % of the rate without one (no more than 10 % slower).
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
const DEVICES = 100_000;
const TOKEN = 'bench-token-0123456789';
const PORT = 18313;
const work = mkdtempSync(join(tmpdir(), 'esp-ota-rollout-bench-'));
let server: ChildProcess | undefined;

/** The fleet's MACs: 5C:CF:7F followed by the device number. */
const LUA = `-- each request comes from one of ${DEVICES} known devices, in turn
local counter = 0
request = function()
  counter = counter + 1
  local n = counter % ${DEVICES}
  wrk.headers["x-ESP8266-STA-MAC"] = string.format("5C:CF:7F:%02X:%02X:%02X", math.floor(n / 65536), math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil)
end
`;

function wrk(url: string, headers: Record<string, string>, seconds = SECONDS): number {
  const args = ['-c', '1', 'wrk', '-t1', '-c32', `-d${seconds}s`, '-s', join(work, 'fleet.lua')];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const output = execFileSync('taskset', [...args, url], { encoding: 'utf8' });
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses`);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]);
  if (!(rate > 0)) throw new Error(`wrk measured nothing:\n${output}`);
  return rate;
}

/** The platform and its 100,000 devices, written through the server's own stores before it starts. */
async function prefill(dataDir: string): Promise<void> {
  const db = createDatabase({ kind: 'sqlite', file: databaseFile(loadConfig({ env: {}, flags: { data: dataDir } })) });
  await migrateToLatest(db);
  const { stores } = createCatalogue(db);
  const now = Date.now();
  const platform = await stores.platforms.insert({
    name: 'Bench',
    name_key: 'bench',
    chip: null,
    access_mode: 'open',
    released_app_id: null,
    released_fs_id: null,
    app_release_pinned: 0,
    fs_partition_size: null,
    device_user: null,
    device_secret_hash: null,
    created_at: now,
    updated_at: now,
  });
  for (let first = 0; first < DEVICES; first += 10_000) {
    await stores.devices.record(
      Array.from({ length: 10_000 }, (_, i) => ({
        mac: `5ccf7f${(first + i).toString(16).padStart(6, '0')}`,
        platform_id: platform.id,
        platform_name: 'Bench',
        family: 'esp8266',
        ip: '127.0.0.1',
        reported_version: '1.0.0',
        sdk_version: null,
        free_space: 3_000_000,
        chip_size: null,
        sketch_md5: null,
        first_seen_at: now,
        last_seen_at: now,
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

async function api(method: string, path: string, body?: Uint8Array | object): Promise<Response> {
  const binary = body instanceof Uint8Array;
  const response = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body ? { 'content-type': binary ? 'application/octet-stream' : 'application/json' } : {}),
    },
    ...(body ? { body: binary ? new Blob([new Uint8Array(body)]) : JSON.stringify(body) } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(join(work, 'fleet.lua'), LUA);
  await prefill(join(work, 'data'));
  server = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      join(ROOT, 'bin/esp-ota.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--data',
      join(work, 'data'),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ESP_OTA_API_TOKEN: TOKEN, ESP_OTA_ADMIN_PASSWORD: 'bench-password-0123' },
    },
  );
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${PORT}/healthz`);
      break;
    } catch {
      if (i > 300) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const v1 = buildEsp8266App({ strings: ['ESP-OTA:platform=Bench;version=1.0.0'] });
  const v2 = buildEsp8266App({ strings: ['ESP-OTA:platform=Bench;version=2.0.0'] });
  await api('POST', '/api/v1/firmware?release=true', new Uint8Array(v1));
  await api('POST', '/api/v1/firmware', new Uint8Array(v2));

  const url = `http://127.0.0.1:${PORT}/update?dev=Bench`;
  const headers = {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-version': '1.0.0',
    'x-ESP8266-free-space': '3000000',
  };
  wrk(url, headers, 3); // warm-up: the JIT, and every device's first check of this run
  const before = wrk(url, headers);
  await api('POST', '/api/v1/platforms/Bench/rollouts', { version: '2.0.0', stages: [1, 100] });
  wrk(url, headers, 3); // the admitted 1 % download, and fail after their attempts
  const during = wrk(url, headers);
  await api('POST', '/api/v1/platforms/Bench/rollouts/current/abort');
  wrk(url, headers, 2);
  const after = wrk(url, headers);
  const without = (before + after) / 2;
  const line = (name: string, rate: number) =>
    console.log(`${name.padEnd(34)} ${rate.toFixed(0).padStart(7)} checks/s`);
  line('no rollout (before)', before);
  line('rollout at 1 % of 100,000 devices', during);
  line('no rollout (after abort)', after);
  console.log(
    `ratio with / without: ${((during / without) * 100).toFixed(1)} %  (target ≥ 90 %; the two runs without differ by ${((Math.abs(before - after) / without) * 100).toFixed(1)} %)`,
  );
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    server?.kill('SIGTERM');
    setTimeout(() => rmSync(work, { recursive: true, force: true }), 500);
  });
