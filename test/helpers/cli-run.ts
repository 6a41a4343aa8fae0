import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = resolve(ROOT, 'src/main.ts');
// Resolved here, so that the process can run from any folder (a bare `--import tsx` resolves against its cwd).
const TSX = import.meta.resolve('tsx');

export interface CliRunOptions {
  /** Working directory (default: a neutral one, so that nothing relies on the repository as cwd). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  /** File permissions apply even to root (see ProcessLimits.obeyFilePermissions in server-process.ts). */
  obeyFilePermissions?: boolean;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `esp-ota …` as a process of its own, from the sources (through tsx), as a person at a shell would. */
export function spawnCli(args: string[], options: CliRunOptions = {}): ChildProcess {
  // The caller's settings only: a developer's own ESP_OTA_* must not change what the tests see.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ESP_OTA_')));
  const command = [process.execPath, '--import', TSX, MAIN, ...args];
  if (options.obeyFilePermissions && process.getuid?.() === 0)
    command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--');
  const [file, ...rest] = command;
  const child = spawn(file!, rest, {
    cwd: options.cwd ?? ROOT,
    env: { ...env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end(options.stdin ?? '');
  return child;
}

export function outcome(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
}

/** Runs `esp-ota …` in a process of its own and resolves when it has ended. */
export function runCliProcess(args: string[], options: CliRunOptions = {}): Promise<CliResult> {
  return outcome(spawnCli(args, options));
}
