import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram, type CliIo } from './cli/program.js';

/** Entry point: runs the CLI on argv and resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const state = { exitCode: 0 };
  const program = buildProgram(io, state);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code;
    io.err.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return state.exitCode;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url);
}

if (invokedDirectly()) {
  main(process.argv).then((code) => (process.exitCode = code));
}
