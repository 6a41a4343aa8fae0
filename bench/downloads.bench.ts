/**
 * Image downloads (issue 13 §2) of a real ~1 MB ESP8266 image from /work/shared/firmware (ESP_OTA_FIRMWARE_DIR),
 * against nginx's `sendfile` serving the same file, measured in the same run: the server sending the bytes itself
 * (target ≥ 0.8 × nginx) and the offload mode behind nginx (`downloadOffload`, X-Accel-Redirect; target ≥ 0.95 ×
 * nginx alone). Keep-alive and one connection per download. Servers on CPU 0, wrk on CPU 1.
 *
 *   npm run bench:downloads                  # SECONDS=3 per measurement, ROUNDS=3 (median ratio)
 *
 * Needs wrk and nginx: apt-get install -y wrk nginx-light (Debian). Tests never need them, except the offload test
 * under CI, which .ci/run installs nginx-light for.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alternate,
  describeMachine,
  killAll,
  need,
  ROOT,
  ROUNDS,
  startOnCpu0,
  verdict,
  waitFor,
  wrk,
  type WrkResult,
} from './bench-kit.js';

const SECONDS = Number(process.env.SECONDS ?? 3);
const FIRMWARE_DIR = process.env.ESP_OTA_FIRMWARE_DIR ?? '/work/shared/firmware';
const TOKEN = 'bench-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'esp-ota-downloads-'));
const NGINX_ALONE = 'http://127.0.0.1:18322';
const NGINX_FRONT = 'http://127.0.0.1:18324';
const DIRECT = 'http://127.0.0.1:18323';

/** The largest ESP8266 app of the corpus below 1.1 MB: a typical real image. */
function realImage(): { file: string; bytes: Buffer } {
  const rows = readFileSync(join(FIRMWARE_DIR, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const apps = rows
    .map((line) => line.split('\t'))
    .filter((c) => c[6] === 'esp8266-app' && Number(c[4]) < 1_100_000)
    .sort((a, b) => Number(b[4]) - Number(a[4]));
  const file = apps[0]![0]!;
  return { file, bytes: readFileSync(join(FIRMWARE_DIR, file)) };
}

function nginxConfig(): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${work}/nginx-${t};`)
    .join(' ');
  return `daemon off; user root; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; ${temp}
  upstream esp_ota { server 127.0.0.1:18325; keepalive 64; }
  # nginx alone: the image as a static file.
  server { listen 127.0.0.1:18322; root ${work}/static;
    location / { default_type application/octet-stream; } }
  # nginx in front of the server in offload mode: the server decides, nginx sends the file.
  server { listen 127.0.0.1:18324;
    location / { proxy_pass http://esp_ota; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /_blobs/ { internal; alias ${work}/offload/blobs/; default_type application/octet-stream; etag off;
      add_header x-MD5 $upstream_http_x_md5; add_header x-version $upstream_http_x_version; } } }
`;
}

async function prepare(base: string, image: Buffer): Promise<void> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  await fetch(`${base}/api/v1/platforms`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', accessMode: 'open' }),
  });
  const upload = await fetch(`${base}/api/v1/firmware?platform=Bench&version=2.0.0`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(image),
  });
  if (upload.status !== 201) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);
}

function serve(port: number, dataDir: string, extra: string[]): void {
  startOnCpu0(
    process.execPath,
    [join(ROOT, 'bin/esp-ota.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, ...extra],
    { ESP_OTA_API_TOKEN: TOKEN, ESP_OTA_ADMIN_PASSWORD: 'bench-password-0123' },
  );
}

async function main(): Promise<void> {
  need('wrk', 'apt-get install -y wrk');
  need('nginx', 'apt-get install -y nginx-light');
  console.log(describeMachine('start'));
  const image = realImage();
  console.log(
    `image: ${image.file} (${image.bytes.length} bytes), ${SECONDS} s per measurement, median of ${ROUNDS} alternating rounds, servers on CPU 0, wrk on CPU 1`,
  );
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

  mkdirSync(join(work, 'static'));
  writeFileSync(join(work, 'static', 'firmware.bin'), image.bytes);
  serve(18323, join(work, 'direct'), []);
  serve(18325, join(work, 'offload'), ['--download-offload', '/_blobs/', '--trust-proxy', 'true']);
  writeFileSync(join(work, 'nginx.conf'), nginxConfig());
  startOnCpu0('nginx', ['-c', join(work, 'nginx.conf'), '-e', join(work, 'nginx-error.log')]);
  await Promise.all(
    [`${DIRECT}/healthz`, `${NGINX_FRONT}/healthz`, `${NGINX_ALONE}/firmware.bin`].map((u) => waitFor(u)),
  );
  await prepare(DIRECT, image.bytes);
  await prepare(NGINX_FRONT, image.bytes);
  const blobDirs = readdirSync(join(work, 'offload', 'blobs')).filter((d) => d.length === 2);
  if (blobDirs.length !== 1) throw new Error('the offload server should hold one blob');
  // As a board: an old version, so the released image is offered.
  const device = {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-STA-MAC': '5C:CF:7F:00:00:01',
    'x-ESP8266-version': '1.0.0',
    'x-ESP8266-free-space': '3000000',
    'x-ESP8266-chip-size': '4194304',
  };
  const check = '/update?dev=Bench&ver=1.0.0';
  for (const base of [DIRECT, NGINX_FRONT]) {
    const response = await fetch(base + check, { headers: device });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200 || !body.equals(image.bytes))
      throw new Error(`${base} did not serve the image (${response.status}, ${body.length} bytes)`);
  }
  const fleet = { script: 'rotate-devices.lua', headers: device, connections: 16 };

  // Warm-up, not measured.
  wrk(`${NGINX_ALONE}/firmware.bin`, { seconds: 2, connections: 16 });
  wrk(DIRECT + check, { ...fleet, seconds: 2 });
  wrk(NGINX_FRONT + check, { ...fleet, seconds: 2 });

  const line = (name: string, result: ReturnType<typeof alternate>, target: number) =>
    console.log(
      `${name.padEnd(52)} ours ${result.ours.perSecond.toFixed(0).padStart(5)}/s  nginx alone ${result.reference.perSecond.toFixed(0).padStart(5)}/s  ratio ${result.ratio.toFixed(2)} (rounds ${result.ratios.map((r) => r.toFixed(2)).join(' ')})  target ≥ ${target}  ${verdict(result.ratio >= target)}  (${((result.ours.perSecond * image.bytes.length) / 1e9).toFixed(2)} GB/s)`,
    );
  const checked = (result: WrkResult) => {
    if (result.errors) throw new Error(`errors: ${result.errorText}`);
    return result;
  };
  for (const close of [false, true]) {
    const how = close ? 'one connection each' : 'keep-alive';
    const nginx = () => checked(wrk(`${NGINX_ALONE}/firmware.bin`, { seconds: SECONDS, connections: 16, close }));
    line(
      `downloads, ${how}: served by the server`,
      alternate(nginx, () => checked(wrk(DIRECT + check, { ...fleet, seconds: SECONDS, close }))),
      0.8,
    );
    line(
      `downloads, ${how}: offload (nginx sends, server decides)`,
      alternate(nginx, () => checked(wrk(NGINX_FRONT + check, { ...fleet, seconds: SECONDS, close }))),
      0.95,
    );
  }
  const metrics = await (await fetch('http://127.0.0.1:18325/metrics')).text();
  console.log(`offload server counted ${/^esp_ota_downloads_total (\d+)/m.exec(metrics)?.[1]} downloads`);
  console.log(`(the static copy is ${statSync(join(work, 'static', 'firmware.bin')).size} bytes)`);
  console.log(describeMachine('end'));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    setTimeout(() => rmSync(work, { recursive: true, force: true }), 500);
  });
