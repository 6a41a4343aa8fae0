/**
 * What one device check costs the activity recorder: queueing it on the hot path and writing its event and
 * inventory row in the batched flush, on the embedded SQLite store. "fleet" rotates 10,000 MACs (each batch holds
 * a different device per check); "one device" repeats one MAC (the batch folds them into one inventory row).
 * Run: npm run bench:activity      (CHECKS=200000 timed after PREFILL=500000 untimed; BATCH=checks per transaction)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createCatalogue } from '../src/features/catalogue.js';
import {
  ACTIVITY_BATCH,
  ActivityRecorder,
  type CheckActivity,
} from '../src/features/update-check/activity-recorder.js';

const CHECKS = Number(process.env.CHECKS ?? 200_000);
const PREFILL = Number(process.env.PREFILL ?? 500_000);

function check(n: number, macs: number): CheckActivity {
  const device = n % macs;
  return {
    at: Date.now(),
    type: 'check',
    platform_name: 'Bench',
    mac: `5ccf7f00${device.toString(16).padStart(4, '0')}`,
    from_version: '2.0.0',
    to_version: '2.0.0',
    decision: 'not-modified',
    reason: 'current',
    detail: 'the device runs the released version',
    status: 304,
    speaks_for_device: true,
    downloaded_image_id: null,
    platform_id: 1,
    family: 'esp8266',
    ip: '127.0.0.1',
    sdk_version: null,
    free_space: 3_000_000,
    chip_size: null,
    sketch_md5: null,
  };
}

async function recordChecks(recorder: ActivityRecorder, first: number, count: number, macs: number): Promise<void> {
  for (let n = first; n < first + count; n++) {
    recorder.record(check(n, macs));
    // As on a server: the event loop turns between checks, so flushes run while checks arrive.
    if (n % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await recorder.flush();
}

async function measure(name: string, macs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-activity-'));
  const db = createDatabase({ kind: 'sqlite', file: join(dir, 'bench.sqlite') });
  await migrateToLatest(db);
  await db
    .insertInto('platforms')
    .values({
      name: 'Bench',
      name_key: 'bench',
      chip: null,
      access_mode: 'open',
      released_app_id: null,
      released_fs_id: null,
      app_release_pinned: 0,
      fs_partition_size: null,
      created_at: 0,
      updated_at: 0,
      device_user: null,
      device_secret_hash: null,
    })
    .execute();
  const recorder = new ActivityRecorder(
    createCatalogue(db),
    { flushIntervalMs: 1000, maxBatch: Number(process.env.BATCH ?? ACTIVITY_BATCH) },
    console,
  );
  // A server that has been up a while keeps many events (up to `eventRetentionCount`, a million by default), and
  // what an insert costs depends on how large the tables and their indexes have grown: fill them first, untimed.
  await recordChecks(recorder, 0, PREFILL, macs);
  const started = process.hrtime.bigint();
  await recordChecks(recorder, PREFILL, CHECKS, macs);
  const perCheck = Number(process.hrtime.bigint() - started) / CHECKS / 1000;
  const events = (
    await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;
  if (Number(events) !== PREFILL + CHECKS) throw new Error(`expected ${PREFILL + CHECKS} events, found ${events}`);
  console.log(
    `${name.padEnd(12)} ${perCheck.toFixed(2)} µs per check (record + flush), ${CHECKS} checks after ${PREFILL} kept`,
  );
  // What the missing MAC index costs the reader: a device's history is a scan of the log, newest first.
  const scanStarted = process.hrtime.bigint();
  const history = await createCatalogue(db).stores.events.list({ mac: check(123, macs).mac!, limit: 100 });
  const scanMs = Number(process.hrtime.bigint() - scanStarted) / 1e6;
  console.log(`${''.padEnd(12)} one device's newest ${history.length} events found in ${scanMs.toFixed(0)} ms`);
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}

await measure('fleet', 10_000);
await measure('one device', 1);
