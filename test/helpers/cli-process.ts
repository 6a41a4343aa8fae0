import { main } from '../../src/main.js';

/**
 * `esp-ota …` in a process of its own, which then reports its peak memory on stderr as `maxRSS=<bytes>`: for tests
 * that bound what a command may hold in memory. Run as `node --import tsx test/helpers/cli-process.ts <args…>`.
 */
const code = await main(['node', 'esp-ota', ...process.argv.slice(2)]);
process.stderr.write(`\nmaxRSS=${process.resourceUsage().maxRSS * 1024}\n`);
process.exitCode = code;
