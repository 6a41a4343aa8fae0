import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliIo, CliState } from './program.js';

export function registerInspectCommand(program: Command, io: CliIo, state: CliState): void {
  program
    .command('inspect')
    .description('analyse firmware files: kind, chip, checks, app descriptor, detected platform and version')
    .argument('<files...>', 'firmware files (.bin)')
    .option('--json', 'print one JSON document for machines')
    .option('--platforms <names>', 'comma-separated platform names to look for in Arduino builds', '')
    .option('--platform <name>', 'the platform the uploader would state')
    .option('--version <version>', 'the version the uploader would state')
    .action(
      async (files: string[], options: { json?: boolean; platforms: string; platform?: string; version?: string }) => {
        const platforms = options.platforms
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        // Loaded when used: the other commands start faster without the analyser.
        const [{ analyzeImage }, { identify }, { formatInspection }] = await Promise.all([
          import('../firmware-image/index.js'),
          import('../firmware-image/identify.js'),
          import('./format-inspection.js'),
        ]);
        const reports = [];
        for (const file of files) {
          let bytes: Buffer;
          try {
            bytes = await readFile(file);
          } catch (error) {
            io.err.write(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
            state.exitCode = 2;
            continue;
          }
          const analysis = analyzeImage(bytes);
          const identity = identify(bytes, analysis, {
            platforms,
            explicit: { platform: options.platform, version: options.version },
          });
          if (analysis.kind === 'rejected') state.exitCode = Math.max(state.exitCode, 1);
          reports.push({ file, analysis, identity });
        }
        if (options.json) io.out.write(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
        else for (const report of reports) io.out.write(formatInspection(report) + '\n');
      },
    );
}
