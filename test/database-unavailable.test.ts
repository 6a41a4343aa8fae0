import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/database-errors.js';
import { createCatalogue } from '../src/features/catalogue.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { openTestDatabase, PG_SKIP_REASON, PG_URL, startTestApp, type TestApp } from './helpers/test-app.js';

const image = (version: string) => buildEsp8266App({ strings: [`ESP-OTA:platform=Outage;version=${version}`] });
const deviceCheck = (url: string, version = '1.0.0') =>
  fetch(`${url}/update?dev=Outage&ver=${version}`, {
    headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:0A', 'x-esp8266-version': version },
  });

async function expectApiUnavailable(response: { status: number; json: unknown }) {
  expect(response.status).toBe(503);
  expect(response.json).toMatchObject({ error: 'database-unavailable' });
}

async function expectDeviceUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get('x-ota-reason')).toBe('database-unavailable');
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await response.text()).toMatch(/database/);
}

describe.skipIf(!PG_URL)(`issue 11.1: PostgreSQL out of reach answers 503 ${PG_URL ? '' : PG_SKIP_REASON}`, () => {
  let proxy: TcpProxy;
  let t: TestApp;
  beforeAll(async () => {
    const target = new URL(PG_URL!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    t = await startTestApp(
      'postgres',
      {},
      {
        reachDatabase: (url) => {
          const viaProxy = new URL(url);
          viaProxy.host = proxy.address;
          return viaProxy.toString();
        },
      },
    );
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Outage', accessMode: 'open' });
    expect((await api(t.url, 'POST', '/api/v1/firmware', image('1.0.0'))).status).toBe(201);
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await t.stop();
    await proxy.close();
  });

  it('answers the API and devices with 503 database-unavailable while it is gone, and recovers', async () => {
    expect((await deviceCheck(t.url)).status).toBe(304);
    await proxy.cut();

    await expectApiUnavailable(await api(t.url, 'GET', '/api/v1/platforms'));
    await expectApiUnavailable(await api(t.url, 'POST', '/api/v1/firmware', image('1.1.0')));
    // A write of this process makes the next check read the catalogue again, which now fails.
    t.app.view.invalidate();
    await expectDeviceUnavailable(await deviceCheck(t.url));

    await proxy.restore();
    expect((await api(t.url, 'GET', '/api/v1/platforms')).status).toBe(200);
    expect((await deviceCheck(t.url)).status).toBe(304);
    expect((await api(t.url, 'POST', '/api/v1/firmware', image('1.1.0'))).status).toBe(201);
  });
});

describe.skipIf(!PG_URL)(
  `issue 11.1: a connection dropped inside a transaction ${PG_URL ? '' : PG_SKIP_REASON}`,
  () => {
    it('fails that transaction with the server’s error, and the next one gets a new connection', async () => {
      const { db, close } = await openTestDatabase('postgres', { poolSize: 1 });
      try {
        const catalogue = createCatalogue(db);
        // The server ends this very connection mid-transaction (as pg_terminate_backend from outside does): with no
        // listener on the client in use, its 'error' event used to end the process.
        const failed = await db
          .transaction()
          .execute((trx) => sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx))
          .catch((error: unknown) => error);
        expect(failed).toBeInstanceOf(Error);
        expect((failed as { code?: string }).code).toBe('57P01'); // admin_shutdown, not the failed rollback after it
        expect(await catalogue.stores.platforms.list()).toEqual([]);
      } finally {
        await close();
      }
    });
  },
);

describe.skipIf(!PG_URL)(`issue 11.1: no free connection in time ${PG_URL ? '' : PG_SKIP_REASON}`, () => {
  it('counts as the database being unavailable', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 50 });
    const held = await pool.connect();
    try {
      const waited = await pool.connect().catch((error: unknown) => error);
      expect(waited).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(waited)).toBe(true);
    } finally {
      held.release();
      await pool.end();
    }
  });
});

describe('issue 11.1: SQLite busy or full answers 503', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Outage', accessMode: 'open' });
  });
  afterAll(() => t.stop());

  it('answers 503 while another connection holds the write lock, and succeeds once it is free', async () => {
    const other = new SQLite(join(t.dataDir, 'esp-ota.sqlite'));
    await sql`pragma busy_timeout = 50`.execute(t.app.db);
    try {
      other.exec('begin immediate');
      await expectApiUnavailable(await api(t.url, 'POST', '/api/v1/platforms', { name: 'Busy' }));
      other.exec('rollback');
      expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'Busy' })).status).toBe(201);
    } finally {
      other.close();
      await sql`pragma busy_timeout = 5000`.execute(t.app.db);
    }
  });

  it('answers 507 storage-full when the database is full, and keeps the catalogue as it was', async () => {
    const kept = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', image('2.0.0'));
    expect(kept.status).toBe(201);
    expect((await api(t.url, 'POST', '/api/v1/firmware', image('2.0.1'))).status).toBe(201); // released
    // Writing an image row (or deleting one) also writes 100 kB elsewhere, and the file may not grow: SQLITE_FULL,
    // after which SQLite has already ended the transaction itself.
    await sql`create table filler (data blob)`.execute(t.app.db);
    for (const event of ['insert', 'delete'])
      await sql
        .raw(
          `create trigger fill_on_${event} after ${event} on images begin insert into filler values (zeroblob(100000)); end`,
        )
        .execute(t.app.db);
    await sql`pragma incremental_vacuum`.execute(t.app.db);
    const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(t.app.db);
    await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(t.app.db);
    try {
      // A full database is full storage, which the operator must free (the same answer as a full disk).
      for (const response of [
        await api(t.url, 'POST', '/api/v1/firmware', image('2.1.0')),
        await api(t.url, 'DELETE', `/api/v1/firmware/${kept.json.image.id}`),
      ]) {
        expect(response.status).toBe(507);
        expect(response.json).toMatchObject({ error: 'storage-full' });
      }
    } finally {
      await sql`pragma max_page_count = 4294967294`.execute(t.app.db);
      for (const event of ['insert', 'delete']) await sql.raw(`drop trigger fill_on_${event}`).execute(t.app.db);
    }
    const listed = await api<{ images: { version: string }[] }>(t.url, 'GET', '/api/v1/platforms/Outage/firmware');
    expect(listed.json.images.map((i) => i.version)).toEqual(['2.0.1', '2.0.0']);
  });
});

describe('issue 11.1: device activity while SQLite is locked', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Outage', accessMode: 'open' });
    expect((await api(t.url, 'POST', '/api/v1/firmware', image('1.0.0'))).status).toBe(201);
  });
  afterAll(() => t.stop());

  const failures = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const count = (outcome: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`esp_ota_device_activity_failures_total{outcome="${outcome}"} `))
          ?.split(' ')[1] ?? 0,
      );
    return { retried: count('retried'), dropped: count('dropped') };
  };

  it('answers the device, keeps its row queued while SQLite stays locked, drops and counts only the event', async () => {
    const other = new SQLite(join(t.dataDir, 'esp-ota.sqlite'));
    await sql`pragma busy_timeout = 20`.execute(t.app.db);
    try {
      other.exec('begin immediate');
      expect((await deviceCheck(t.url)).status).toBe(304);
      for (let waited = 0; (await failures()).dropped === 0; waited += 20) {
        expect(waited, 'the batch was given up').toBeLessThan(10_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // One batch: the device's new row and its first-seen event, tried again; the event is given up.
      expect(await failures()).toEqual({ retried: 2, dropped: 1 });
      other.exec('rollback');
      expect((await deviceCheck(t.url)).status).toBe(304);
      await t.app.flushActivity();
      expect(await failures()).toEqual({ retried: 2, dropped: 1 });
      // The row stayed queued, so the device lost nothing: both checks are counted.
      const device = await t.app.catalogue.stores.devices.findByMac('02000000000a');
      expect(device).toMatchObject({ check_count: 2, last_decision: 'not-modified', last_reason: 'current' });
    } finally {
      other.close();
      await sql`pragma busy_timeout = 5000`.execute(t.app.db);
    }
  });
});

describe('issue 11 (failed delete): a statement that ends the SQLite transaction itself', () => {
  it('surfaces its own error, not "cannot rollback - no transaction is active"', async () => {
    const { db, close } = await openTestDatabase('sqlite');
    try {
      const catalogue = createCatalogue(db);
      await sql`create trigger refuse before insert on events begin select raise(rollback, 'disk trouble'); end`.execute(
        db,
      );
      const append = (stores: Parameters<Parameters<typeof catalogue.transact>[0]>[0]) =>
        stores.events.append([
          {
            at: 1,
            type: 'test',
            platform_name: null,
            mac: null,
            from_version: null,
            to_version: null,
            decision: null,
            reason: null,
            detail: null,
          },
        ]);
      await expect(catalogue.transact(append)).rejects.toThrow('disk trouble');
      await expect(catalogue.transactUnflushed(append)).rejects.toThrow('disk trouble');
      // The connection is usable afterwards: no transaction was left open.
      await sql`drop trigger refuse`.execute(db);
      await catalogue.transact(append);
      expect(await catalogue.stores.events.list({ limit: 10 })).toHaveLength(1);
    } finally {
      await close();
    }
  });
});

describe.skipIf(!PG_URL)(`background work while PostgreSQL is out of reach ${PG_URL ? '' : PG_SKIP_REASON}`, () => {
  it('never leaves a rejected promise unhandled (Node would end the process): timers log and try again', async () => {
    const target = new URL(PG_URL!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    const t = await startTestApp(
      'postgres',
      { rolloutMonitorMs: 50, versionSampleMs: 50 },
      {
        reachDatabase: (url) => {
          const viaProxy = new URL(url);
          viaProxy.host = proxy.address;
          return viaProxy.toString();
        },
      },
    );
    try {
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Outage', accessMode: 'open' });
      expect((await deviceCheck(t.url)).status).toBe(304);
      await proxy.cut();
      // The catalogue must be read again (as after a write), so every background pass reaches the database.
      t.app.view.invalidate();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(unhandled.map(String)).toEqual([]);
      await proxy.restore();
      expect((await deviceCheck(t.url)).status).toBe(304);
    } finally {
      process.off('unhandledRejection', record);
      await proxy.restore().catch(() => undefined);
      await t.stop();
      await proxy.close();
    }
  });
});
