#!/usr/bin/env node
// What CI can check of the container without a Docker engine: repeat the Dockerfile's build steps in a clean folder
// (npm ci, build, prune to production dependencies), then run the final stage's CMD with its ENV (data in a fresh
// folder instead of the /data volume) and require /healthz to answer and SIGTERM to end the server cleanly.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)[1]);
const env = Object.fromEntries(
  [...finalStage.matchAll(/^ENV (.*)$/gm)].flatMap((m) => [...m[1].matchAll(/(\w+)=(\S+)/g)].map((p) => [p[1], p[2]])),
);

const work = mkdtempSync(join(tmpdir(), 'esp-ota-container-'));
const app = join(work, 'app');
const port = String(20000 + Math.floor(Math.random() * 20000));
let server;
try {
  for (const path of [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'bin',
  ]) {
    cpSync(join(root, path), join(app, path), { recursive: true });
  }
  const run = (command, args) => execFileSync(command, args, { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
  run('npm', ['ci', '--no-audit', '--no-fund']);
  run('npm', ['run', 'build']);
  run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund']);
  rmSync(join(app, 'src'), { recursive: true });

  server = spawn(cmd[0], cmd.slice(1), {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      ...env,
      ESP_OTA_DATA: join(work, 'data'),
      ESP_OTA_PORT: port,
      ESP_OTA_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((done) => server.on('exit', (code, signal) => done(code ?? signal)));
  let healthy = false;
  for (let i = 0; i < 100 && !healthy; i++) {
    await new Promise((r) => setTimeout(r, 200));
    healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  }
  if (!healthy) throw new Error(`"${cmd.join(' ')}" did not answer /healthz within 20 s`);
  server.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`the server ended with ${code} on SIGTERM`);
  console.log(
    `container smoke test: "${cmd.join(' ')}" (ENV ${Object.keys(env).join(', ')}) answered /healthz and stopped cleanly on SIGTERM`,
  );
} catch (error) {
  server?.kill('SIGKILL');
  console.error(`container smoke test failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
