import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_PASSWORD, TEST_TOKEN } from './http.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export interface ProcessLimits {
  /** RLIMIT_FSIZE: no file the server writes may grow past this (a write beyond it fails with EFBIG). */
  fileSizeBytes?: number;
  /**
   * Make file permissions apply even when the tests run as root: the server keeps its user but loses the
   * capabilities that override permissions (setpriv drops them from its bounding set), so a folder made read-only
   * with chmod is read-only to it, as it would be to a server run by an ordinary user.
   */
  obeyFilePermissions?: boolean;
}

const AS_ROOT = process.getuid?.() === 0;

/** Starts `esp-ota serve` as its own process (through tsx, from the sources) and waits until /healthz answers. */
export async function startServerProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  limits: ProcessLimits = {},
): Promise<ServerProcess> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const command = [
    process.execPath,
    '--import',
    'tsx',
    'src/main.ts',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    ...args,
  ];
  if (limits.obeyFilePermissions && AS_ROOT)
    command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--');
  // `ulimit -f` counts 512-byte blocks in POSIX sh; Node ignores SIGXFSZ, so an oversized write fails with EFBIG.
  if (limits.fileSizeBytes !== undefined)
    command.unshift('/bin/sh', '-c', `ulimit -f ${Math.ceil(limits.fileSizeBytes / 512)} && exec "$@"`, 'sh');
  const [file, ...rest] = command;
  const child = spawn(file!, rest, {
    cwd: ROOT,
    env: {
      ...process.env,
      ESP_OTA_LOG_LEVEL: 'warn',
      ESP_OTA_API_TOKEN: TEST_TOKEN,
      ESP_OTA_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | string>((done) => child.on('exit', (code, signal) => done(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, output: () => output, exited };
}
