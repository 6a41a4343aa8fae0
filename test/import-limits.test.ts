import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { writeTarGz, type TarEntry } from './helpers/tar-builder.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const FIRMWARE = `firmware/${'a'.repeat(64)}.bin`;
/** A catalogue that lists the entry, so an import that got as far as checking the files would read it. */
const CATALOGUE = Buffer.from(
  [
    'format: esp-ota-export/1',
    'exportedAt: 2025-01-01T00:00:00.000Z',
    'platforms:',
    '  - { name: Big, chip: null, accessMode: open, fsPartitionSize: null, releasedApp: null, releasedFilesystem: null,',
    '      releasePinned: false, deviceAuth: "off", deviceUser: null, deviceSecretHash: null, allowlist: [],',
    `      images: [{ kind: app, version: 1.0.0, file: ${FIRMWARE}, sha256: ${'a'.repeat(64)}, md5: x, size: ${GiB},`,
    '                 filename: null, uploadedAt: 2025-01-01T00:00:00.000Z }] }',
    '',
  ].join('\n'),
);

/** `esp-ota …` as its own process, with its peak memory; killed if it runs for more than 100 s. */
function runCliProcess(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stderr: string; maxRss: number }>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli-process.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr, maxRss: Number(/maxRSS=(\d+)/.exec(stderr)?.[1] ?? NaN) });
    });
  });
}

describe('issue 11 (storage): an archive import streams its entries within limits and always cleans up', () => {
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-limits-'));
  /** The import's own temporary folders go here, so the test can see that none is left behind. */
  const temp = join(work, 'tmp');
  const savedTmpdir = process.env.TMPDIR;
  let source: TestApp;
  let validArchive: string;

  beforeAll(async () => {
    mkdirSync(temp);
    source = await startTestApp('sqlite');
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol' });
    await api(
      source.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=1.0.0'] }),
    );
    validArchive = join(work, 'valid.tar.gz');
    expect((await runCli('export', '--data', source.dataDir, '--out', validArchive)).code).toBe(0);
    process.env.TMPDIR = temp;
  });
  afterAll(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await source.stop();
    rmSync(work, { recursive: true, force: true });
  });
  // A test that fails must not make the next one fail: each starts with no temporary folder.
  beforeEach(() => {
    for (const name of leftovers()) rmSync(join(temp, name), { recursive: true, force: true });
  });

  const leftovers = () => readdirSync(temp).filter((name) => name.startsWith('esp-ota-'));
  const freshData = () => mkdtempSync(join(work, 'data-'));
  const archive = (name: string, entries: TarEntry[]) => {
    const file = join(work, `${name}.tar.gz`);
    writeTarGz(file, entries);
    return file;
  };

  it('issue 11 (storage): refuses a 1 GiB entry at its header, with bounded memory, and removes its temporary folder', async () => {
    const bomb = archive('one-gib-entry', [
      { path: 'catalogue.yaml', data: CATALOGUE },
      { path: FIRMWARE, zeros: GiB },
    ]);
    const env = { TMPDIR: temp, ESP_OTA_LOG_LEVEL: 'warn' };
    const baseline = await runCliProcess(['import', validArchive, '--data', freshData(), '--init'], env);
    expect(baseline.code, baseline.stderr).toBe(0);
    const result = await runCliProcess(['import', bomb, '--data', freshData(), '--init'], env);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('nothing was imported');
    expect(result.stderr).toMatch(new RegExp(`${FIRMWARE}: 1073741824 bytes, more than the upload limit`));
    // Holding the entry would take a GiB; streaming it takes a few buffers.
    expect(result.maxRss - baseline.maxRss).toBeLessThan(96 * MiB);
    expect(leftovers()).toEqual([]);
  }, 240_000);

  it.each<[string, TarEntry, RegExp]>([
    ['a symbolic link', { path: FIRMWARE, type: 'SymbolicLink', linkpath: '/etc/passwd' }, /symbolic link/],
    ['a hard link', { path: FIRMWARE, type: 'Link', linkpath: 'catalogue.yaml' }, /hard link/],
    ['a device', { path: FIRMWARE, type: 'CharacterDevice' }, /device/],
    ['a FIFO', { path: FIRMWARE, type: 'FIFO' }, /FIFO|pipe/],
    ['an absolute path', { path: '/tmp/esp-ota-escape.bin', data: Buffer.from('x') }, /outside the export/],
    ['a path with ..', { path: '../escape.bin', data: Buffer.from('x') }, /outside the export/],
  ])(
    'issue 11 (storage): refuses %s with a sentence and removes its temporary folder',
    async (name, entry, message) => {
      const file = archive(name.replace(/\W+/g, '-'), [{ path: 'catalogue.yaml', data: CATALOGUE }, entry]);
      const result = await runCli('import', file, '--data', freshData(), '--init');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('nothing was imported');
      expect(result.stderr).toMatch(message);
      expect(leftovers()).toEqual([]);
      expect(existsSync(join(work, 'escape.bin'))).toBe(false);
      expect(existsSync('/tmp/esp-ota-escape.bin')).toBe(false);
    },
  );

  it('issue 11 (storage): refuses an archive whose entries add up to more than --max-total', async () => {
    const file = archive('too-much', [
      { path: 'catalogue.yaml', data: CATALOGUE },
      ...['b', 'c', 'd'].map((c) => ({ path: `firmware/${c.repeat(64)}.bin`, zeros: 512 * 1024 })),
    ]);
    const result = await runCli('import', file, '--data', freshData(), '--init', '--max-total', '1MiB');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/more than 1048576 bytes in all/);
    expect(leftovers()).toEqual([]);
  });

  it.each<[string, () => Buffer, RegExp]>([
    ['random bytes', () => Buffer.from('this is not an archive at all'.repeat(40)), /not a \.tar\.gz|damaged/],
    [
      'a truncated archive',
      () => {
        const whole = readFileSync(validArchive);
        return whole.subarray(0, whole.length >> 1);
      },
      /damaged|ends/,
    ],
  ])('issue 11 (storage): reports %s with a sentence, the first error, and cleans up', async (name, bytes, message) => {
    const file = join(work, `${name.replace(/\W+/g, '-')}.tar.gz`);
    writeFileSync(file, bytes());
    const result = await runCli('import', file, '--data', freshData(), '--init');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(leftovers()).toEqual([]);
  });

  it('issue 11 (storage): a folder import refuses an oversized image and a FIFO without reading them', async () => {
    const dir = join(work, 'folder-export');
    expect((await runCli('export', '--data', source.dataDir, '--out', dir)).code).toBe(0);
    const image = readdirSync(join(dir, 'firmware'))[0]!;
    const tooSmall = await runCli('import', dir, '--data', freshData(), '--init', '--upload-limit', '1KiB');
    expect(tooSmall.code, tooSmall.stderr).toBe(1);
    expect(tooSmall.stderr).toMatch(/more than the upload limit \(1024 bytes\)/);
    rmSync(join(dir, 'firmware', image));
    expect(spawnSync('mkfifo', [join(dir, 'firmware', image)]).status).toBe(0);
    const fifo = await runCli('import', dir, '--data', freshData(), '--init');
    expect(fifo.code, fifo.stderr).toBe(1);
    expect(fifo.stderr).toMatch(/not a plain file/);
  });
});

describe('issue 11 (storage): legacy import reads binaries within the upload limit', () => {
  let t: TestApp;
  const legacy = mkdtempSync(join(tmpdir(), 'esp-ota-legacy-limits-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.stop();
    rmSync(legacy, { recursive: true, force: true });
  });

  it('issue 11 (storage): refuses an oversized binary and a FIFO with a sentence, and imports the rest', async () => {
    writeFileSync(join(legacy, 'big.bin'), Buffer.alloc(64 * 1024, 0xe9));
    expect(spawnSync('mkfifo', [join(legacy, 'pipe.bin')]).status).toBe(0);
    writeFileSync(join(legacy, 'ok.bin'), buildEsp8266App({ strings: ['ok'] }));
    writeFileSync(
      join(legacy, 'platforms.yml'),
      [
        'big:',
        '  file: big.bin',
        '  version: 1.0.0',
        'pipe:',
        '  file: pipe.bin',
        '  version: 1.0.0',
        'ok:',
        '  file: ok.bin',
        '  version: 1.0.0',
        '',
      ].join('\n'),
    );
    const result = await runCli('import-legacy', legacy, '--data', t.dataDir, '--upload-limit', '32KiB');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/failed {4}big 1\.0\.0: the file is larger than the upload limit \(32768 bytes\)/);
    expect(result.stderr).toMatch(/failed {4}pipe 1\.0\.0: pipe\.bin is not a plain file/);
    expect(result.stdout).toContain('imported  ok 1.0.0');
  });
});
