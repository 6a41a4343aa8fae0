import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient, ApiError } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

/** What the client commands (platform, allow, firmware, devices, events, …) share. */
export const DEFAULT_SERVER = 'http://localhost:8080';

export function clientOf(command: Command): ApiClient {
  const options = command.optsWithGlobals() as { server?: string; token?: string };
  return new ApiClient(
    options.server ?? process.env.ESP_OTA_URL ?? DEFAULT_SERVER,
    options.token ?? process.env.ESP_OTA_TOKEN,
  );
}

/**
 * Wraps a command's work: every failure becomes one line naming its cause and fix, and the exit code of its kind
 * (exit-codes.ts). `work` gets the command and its string arguments.
 */
export function clientAction(io: CliIo, state: CliState, work: (command: Command, ...args: string[]) => Promise<void>) {
  return async function (this: Command, ...args: unknown[]) {
    try {
      // Variadic arguments (`<macs...>`) arrive as arrays; options and the command itself are dropped.
      const words = args.flatMap((a) => (typeof a === 'string' ? [a] : Array.isArray(a) ? (a as string[]) : []));
      await work(this, ...words);
    } catch (error) {
      const { message, exitCode } = explain(error, clientOf(this).hasToken);
      io.err.write(`error: ${message}\n`);
      if (error instanceof ApiError && error.code === 'identity-needed') {
        const details = (
          error.body as {
            details?: { identity?: { version?: { candidates?: { value: string; context: string }[] } } };
          }
        ).details;
        for (const c of details?.identity?.version?.candidates ?? [])
          io.err.write(`  candidate: ${c.value}   ("${c.context.slice(0, 60)}")\n`);
        io.err.write('  give it with --version (and --platform)\n');
      }
      state.exitCode = exitCode;
    }
  };
}

function explain(error: unknown, hasToken: boolean): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ApiError) {
    if (error.status === 401) {
      return {
        exitCode: EXIT.auth,
        message: hasToken
          ? 'the server refused the API token (401): it is wrong, revoked, or from another data folder; ' +
            'create one with `esp-ota token create --data <the server’s data folder>`'
          : 'no API token given (401): pass --token or set ESP_OTA_TOKEN; create one with `esp-ota token create`',
      };
    }
    if (error.status === 403) return { exitCode: EXIT.auth, message: `not allowed (403): ${error.message}` };
    if (error.status === 413) return { exitCode: EXIT.failed, message: `refused (413): ${error.message}` };
    return { exitCode: EXIT.failed, message: `${error.message} (${error.status})` };
  }
  return { exitCode: EXIT.failed, message: error instanceof Error ? error.message : String(error) };
}

/** A commander parser for whole numbers within bounds: `--limit abc` is refused before anything is sent. */
export function wholeNumber(min: number, max: number) {
  return (value: string): string => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return String(n);
  };
}

/** `--json` on a read command: the server's answer as it came, for scripts. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print the answer as JSON instead of a table');
}

export function wantsJson(command: Command): boolean {
  return command.opts<{ json?: boolean }>().json === true;
}

/** A table with a header row, columns padded to their widest cell; `empty` is printed instead when there are no rows. */
export function printTable(
  io: CliIo,
  header: string[],
  rows: (string | number | null | undefined)[][],
  empty: string,
): void {
  if (rows.length === 0) {
    io.out.write(`${empty}\n`);
    return;
  }
  const cells = [
    header,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c)))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells)
    io.out.write(
      `${row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()}\n`,
    );
}

export function printJson(io: CliIo, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows padded to fixed widths: for output that arrives in batches (`events -f`), where columns cannot be measured. */
export function fixedRow(cells: (string | null | undefined)[], widths: number[]): string {
  return cells
    .map((c, i) => {
      const text = c === null || c === undefined || c === '' ? '-' : c;
      return i < widths.length ? text.padEnd(widths[i]!) : text;
    })
    .join('  ')
    .trimEnd();
}
