import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { buildEsp32App } from './synthetic/image-builder.js';
import { api, TEST_TOKEN } from './helpers/http.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, FIRMWARE_DIR } from './helpers/firmware-corpus.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { createPgDatabase, PG_SKIP_REASON, PG_URL, startTestApp } from './helpers/test-app.js';
import { sql } from 'kysely';

const REAL = 'tominik83__ledlamp__firmware.ota.bin';
const SKIP = !PG_URL ? PG_SKIP_REASON : !CORPUS_AVAILABLE ? CORPUS_SKIP_REASON : '';

/** `esp-ota migrate …` as its own process; resolves with its exit code and output. */
function migrate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate', ...args], {
      env: { ...process.env, ESP_OTA_DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function tableCounts(db: Database, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    counts[table] = Number(rows[0]!.n);
  }
  return counts;
}

describe.skipIf(SKIP !== '')(`issue 13 §3: esp-ota migrate --to postgres:// ${SKIP ? `— ${SKIP}` : ''}`, () => {
  let dataDir: string;
  let target: { url: string; drop: () => Promise<void> };
  const real = CORPUS_AVAILABLE ? readFileSync(join(FIRMWARE_DIR, REAL)) : Buffer.alloc(0);
  const synthetic = buildEsp32App({ descriptor: { projectName: 'Moved', version: '3.1.0' } });
  let tables: string[] = [];
  let before: Record<string, number>;
  let movedToken = '';

  beforeAll(async () => {
    // A real embedded data folder: a server on SQLite with uploads, device checks, a token and their events.
    const source = await startTestApp('sqlite');
    dataDir = source.dataDir;
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'Lamp', accessMode: 'open' });
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'Moved', accessMode: 'open' });
    expect(
      (await api(source.url, 'POST', '/api/v1/platforms/Lamp/firmware?version=2024.10.2&force=true&release=true', real))
        .status,
    ).toBe(201);
    expect((await api(source.url, 'POST', '/api/v1/firmware', synthetic)).status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const mac = `24:0A:C4:00:01:0${i}`;
      await (
        await fetch(`${source.url}/update?dev=Lamp&ver=1.0.0`, { headers: { 'x-esp32-sta-mac': mac } })
      ).arrayBuffer();
      await (
        await fetch(`${source.url}/update?dev=Moved&ver=3.1.0`, { headers: { 'x-esp32-sta-mac': mac } })
      ).arrayBuffer();
    }
    movedToken = (await source.app.auth.createToken('ci', 'uploader')).token;
    await source.app.flushActivity();
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(
      source.app.db,
    );
    tables = rows.map((r) => r.name);
    before = await tableCounts(source.app.db, tables);
    await source.app.close();
    target = await createPgDatabase();
  }, 60_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await target?.drop();
  });

  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('moves every table and firmware file, verifies them, and says what to change', async () => {
    expect(before).toMatchObject({ platforms: 2, images: 2, devices: 5 });
    const moved = await migrate(['--data', dataDir, '--to', target.url]);
    expect(moved.err).toBe('');
    expect(moved.code).toBe(0);
    expect(moved.out).toMatch(/moved and verified \d+ rows in \d+ tables and 2 firmware files/);
    expect(moved.out).toContain(`databaseUrl: ${target.url}`);

    const pg = createDatabase({ kind: 'postgres', url: target.url });
    try {
      expect(await tableCounts(pg, tables)).toEqual({ ...before, blobs: before.blobs! + 2 });
    } finally {
      await pg.destroy();
    }

    // A server on PostgreSQL alone (a new, empty data folder) serves the moved images, devices and token.
    const emptyDir = mkdtempSync(join(tmpdir(), 'esp-ota-moved-'));
    try {
      server = await startServerProcess(['--data', emptyDir], { ESP_OTA_DATABASE_URL: target.url });
      for (const [platform, image] of [
        ['Lamp', real],
        ['Moved', synthetic],
      ] as const) {
        const response = await fetch(`${server.url}/update?dev=${platform}&ver=0.0.1`, {
          headers: { 'x-esp32-sta-mac': '24:0A:C4:00:02:01' },
        });
        const body = Buffer.from(await response.arrayBuffer());
        expect(response.status).toBe(200);
        expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(image).digest('hex'));
      }
      const devices = await api<{ devices: { mac: string }[] }>(server.url, 'GET', '/api/v1/devices');
      expect(devices.status).toBe(200);
      // New rows get new ids after the moved ones: a further upload is accepted.
      const another = buildEsp32App({ descriptor: { projectName: 'Moved', version: '3.2.0' } });
      expect((await api(server.url, 'POST', '/api/v1/firmware', another)).status).toBe(201);
      // The token made before the move still works after it.
      const withToken = await fetch(`${server.url}/api/v1/platforms`, {
        headers: { authorization: `Bearer ${movedToken}` },
      });
      expect(withToken.status).toBe(200);
      expect(movedToken).not.toBe(TEST_TOKEN);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a target that is not empty, and changes nothing there', async () => {
    const again = await migrate(['--data', dataDir, '--to', target.url]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/refused: the target is not empty/);
  }, 60_000);

  it('refuses a URL that is not PostgreSQL, and a folder without an embedded database', async () => {
    const wrong = await migrate(['--data', dataDir, '--to', 'mysql://localhost/x']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--to must be a PostgreSQL URL/);
    const empty = mkdtempSync(join(tmpdir(), 'esp-ota-empty-'));
    try {
      const nothing = await migrate(['--data', empty, '--to', target.url]);
      expect(nothing.code).toBe(2);
      expect(nothing.err).toMatch(/there is no embedded database/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
