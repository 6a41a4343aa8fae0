import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { MAINTENANCE_LOCK, onceAcrossInstances } from '../src/features/maintenance/maintenance-lock.js';
import { onDatabase, startInstances, type Instance } from './helpers/instances.js';
import { createPgDatabase, describeEachStore, openTestDatabase, PG_SKIP_REASON, PG_URL } from './helpers/test-app.js';

describeEachStore('issue 13 §3: a maintenance pass runs once', (store) => {
  it('runs the work when no other instance holds the pass', async () => {
    const { db, close } = await openTestDatabase(store);
    try {
      expect(await onceAcrossInstances(db, async () => 42)).toEqual({ ran: true, result: 42 });
      // Released afterwards: the next pass runs too.
      expect(await onceAcrossInstances(db, async () => 43)).toEqual({ ran: true, result: 43 });
    } finally {
      await close();
    }
  });
});

describe.skipIf(!PG_URL)(
  `issue 13 §3: maintenance once across instances ${PG_URL ? '' : `— ${PG_SKIP_REASON}`}`,
  () => {
    it('a second instance skips the pass while the first runs it, and runs the next one', async () => {
      const database = await createPgDatabase();
      const first = createDatabase({ kind: 'postgres', url: database.url });
      const second = createDatabase({ kind: 'postgres', url: database.url });
      try {
        await migrateToLatest(first);
        let release: () => void = () => undefined;
        let started: () => void = () => undefined;
        const running = new Promise<void>((resolve) => (started = resolve));
        const held = onceAcrossInstances(first, async () => {
          started();
          await new Promise<void>((resolve) => (release = resolve));
          return 'first';
        });
        await running;
        expect(await onceAcrossInstances(second, async () => 'second')).toEqual({ ran: false });
        release();
        expect(await held).toEqual({ ran: true, result: 'first' });
        expect(await onceAcrossInstances(second, async () => 'second')).toEqual({ ran: true, result: 'second' });
      } finally {
        await first.destroy();
        await second.destroy();
        await database.drop();
      }
    });

    describe('two servers on one database', () => {
      let instances: Instance[];
      let databaseUrl: string;
      let stop: () => Promise<void>;
      beforeAll(async () => {
        const started = await startInstances(2, { eventRetentionDays: 1 });
        ({ instances, databaseUrl, stop } = started);
      });
      afterAll(() => stop());

      it('prune only when no other instance is in a pass; one pass prunes for all', async () => {
        const [a, b] = instances as [Instance, Instance];
        const oldEvents = async (n: number) => {
          for (let i = 0; i < n; i++)
            await onDatabase(databaseUrl, `insert into events (at, type, occurrences) values ($1, 'check', 1)`, [i]);
        };
        const remaining = async () =>
          Number(
            (await onDatabase<{ n: string }>(databaseUrl, 'select count(*) as n from events where at < 1000'))[0]!.n,
          );
        // The first pass each instance starts once it listens must be over before the old events exist.
        await a.app.maintain();
        await b.app.maintain();
        await oldEvents(5);

        // Another instance's pass in progress: the lock held on a connection of its own.
        const other = new pg.Client({ connectionString: databaseUrl });
        await other.connect();
        await other.query('select pg_advisory_lock($1::bigint)', [String(MAINTENANCE_LOCK)]);
        expect(await a.app.maintain()).toBe(false);
        expect(await b.app.maintain()).toBe(false);
        expect(await remaining()).toBe(5);
        await other.end();

        // Both start a pass at once: one of them prunes, the other skips it or finds nothing left.
        const ran = await Promise.all([a.app.maintain(), b.app.maintain()]);
        expect(ran).toContain(true);
        expect(await remaining()).toBe(0);
      });
    });
  },
);
