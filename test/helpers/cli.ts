import { PassThrough } from 'node:stream';
import { main } from '../../src/main.js';

/** Runs `esp-ota …` in this process with captured output, as a person at a terminal would. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c) => (stdout += c));
  err.on('data', (c) => (stderr += c));
  const code = await main(['node', 'esp-ota', ...args], { out, err });
  return { code, stdout, stderr };
}
