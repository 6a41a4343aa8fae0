import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { EXIT } from './cli/exit-codes.js';
import { buildProgram, programVersion, type CliIo } from './cli/program.js';

/** Entry point: runs the CLI on argv and resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const state = { exitCode: 0 };
  const program = buildProgram(io, state);
  const args = argv.slice(2);
  // Handled here rather than as a commander option: `upload --version 1.2.3` is the image's version.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.out.write(`${programVersion()}\n`);
    return EXIT.ok;
  }
  if (args.length === 0) {
    io.out.write(program.helpInformation());
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander refuses is a usage mistake.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.err.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
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
