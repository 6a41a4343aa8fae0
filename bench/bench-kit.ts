/**
 * What the fleet and download benchmarks share: servers pinned to CPU 0, wrk pinned to CPU 1, the machine described
 * in the output, and readings of a process's memory and disk writes from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const children: ChildProcess[] = [];

/** Stops with a clear message when a tool the benchmark needs is missing. */
export function need(command: string, install: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  } catch {
    console.error(`${command} is not installed: ${install}`);
    process.exit(1);
  }
}

/** The machine and how busy it is: figures from a shared 2-core machine are only comparable as ratios. */
export function describeMachine(when: string): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${when}: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${load}, node ${process.version}`;
}

/** Starts a process on CPU 0; its stdout goes to `stdoutFile` when given (to measure the log), else nowhere. */
export function startOnCpu0(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stdoutFile?: string,
): ChildProcess {
  const out = stdoutFile ? openSync(stdoutFile, 'a') : 'ignore';
  const child = spawn('taskset', ['-c', '0', command, ...args], {
    stdio: ['ignore', out, 'inherit'],
    env: { ...process.env, ...env },
  });
  if (typeof out === 'number') closeSync(out);
  children.push(child);
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function waitFor(url: string, init?: RequestInit, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const response = await fetch(url, init);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers at ${url}`);
}

/** Resident memory of a process, in bytes. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

/** Bytes a process has caused to be written to storage (Linux's /proc/<pid>/io `write_bytes`). */
export function writeBytesOf(pid: number): number {
  return Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

export interface WrkResult {
  requests: number;
  perSecond: number;
  /** Latency percentiles in ms (with `latency`). */
  p50: number;
  p99: number;
  /** Connect, read, write errors and timeouts, and answers other than 2xx/3xx. */
  errors: number;
  errorText: string;
}

export interface WrkOptions {
  close?: boolean;
  headers?: Record<string, string>;
  connections?: number;
  seconds?: number;
  /** A wrk Lua script in bench/ (e.g. rotate-devices.lua) and the environment it reads. */
  script?: string;
  scriptEnv?: NodeJS.ProcessEnv;
  timeoutSeconds?: number;
}

function ms(text: string | undefined): number {
  if (!text) return NaN;
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** wrk on CPU 1 (one thread): requests per second, latency percentiles and errors. */
export function wrk(url: string, options: WrkOptions = {}): WrkResult {
  const headers = Object.entries({ ...options.headers, ...(options.close ? { Connection: 'close' } : {}) }).flatMap(
    ([k, v]) => ['-H', `${k}: ${v}`],
  );
  const script = options.script ? ['-s', join(ROOT, 'bench', options.script)] : [];
  const output = execFileSync(
    'taskset',
    [
      '-c',
      '1',
      'wrk',
      '-t1',
      `-c${options.connections ?? 32}`,
      `-d${options.seconds ?? 5}s`,
      `--timeout`,
      `${options.timeoutSeconds ?? 10}s`,
      '--latency',
      ...script,
      ...headers,
      url,
    ],
    { encoding: 'utf8', env: { ...process.env, ...options.scriptEnv } },
  );
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  // A server that closes after each answer makes wrk count a read "error" per request; only count them with keep-alive.
  const socketErrors = socket
    ? Number(socket[1]) + (options.close ? 0 : Number(socket[2])) + Number(socket[3]) + Number(socket[4])
    : 0;
  return {
    requests: Number(/(\d+) requests in/.exec(output)![1]),
    perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]),
    p50: ms(/\s50%\s+(\S+)/.exec(output)?.[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(output)?.[1]),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
    errorText: [socket?.[0], non2xx?.[0]].filter(Boolean).join('; '),
  };
}

/** A figure against its target: PASS or MISS, printed as is. */
export function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'MISS';
}

export function killAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

/** Rounds of each comparison: the machine is shared, so the reference and ours alternate and the median ratio counts. */
export const ROUNDS = Number(process.env.ROUNDS ?? 3);

/**
 * Ours against a reference, alternating `ROUNDS` times: the median of the per-round ratios (and the rates of that
 * round), so that a burst of load from elsewhere on the machine skews one round, not the figure.
 */
export function alternate(
  reference: () => WrkResult,
  ours: () => WrkResult,
): { ratio: number; ours: WrkResult; reference: WrkResult; ratios: number[] } {
  const rounds: { ratio: number; ours: WrkResult; reference: WrkResult }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = reference();
    const o = ours();
    rounds.push({ ratio: o.perSecond / r.perSecond, ours: o, reference: r });
  }
  const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio);
  return { ...sorted[Math.floor(sorted.length / 2)]!, ratios: rounds.map((r) => r.ratio) };
}
