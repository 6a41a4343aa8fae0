import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { buildEsp32App } from '../../test/synthetic/image-builder.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: '', err: '' };
  out.on('data', (c) => (chunks.out += c));
  err.on('data', (c) => (chunks.err += c));
  const code = await main(['node', 'esp-ota', ...args], { out, err });
  return { code, ...chunks };
}

const dir = mkdtempSync(join(tmpdir(), 'esp-ota-inspect-'));
const app = join(dir, 'app.bin');
writeFileSync(app, buildEsp32App({ chipId: 5, descriptor: { projectName: 'AirPatrol', version: '1.2.3' } }));
const html = join(dir, 'page.bin');
writeFileSync(html, '<!doctype html><html>oops</html>');

describe('esp-ota inspect', () => {
  it('prints a readable summary and exits 0 for an app image', async () => {
    const result = await run(['inspect', app]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('ESP32-C3');
    expect(result.out).toMatch(/platform\s+AirPatrol/);
    expect(result.out).toMatch(/version\s+1\.2\.3/);
  });

  it('prints JSON with --json and exits 1 when a file is rejected', async () => {
    const result = await run(['inspect', '--json', app, html]);
    expect(result.code).toBe(1);
    const reports = JSON.parse(result.out) as { analysis: { kind: string; code?: string } }[];
    expect(reports.map((r) => r.analysis.kind)).toEqual(['app', 'rejected']);
    expect(reports[1]!.analysis.code).toBe('text');
  });

  it('exits 2 and says why when a file cannot be read', async () => {
    const result = await run(['inspect', join(dir, 'missing.bin')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('ENOENT');
  });
});
