/**
 * What a download costs the database on the embedded SQLite store (issue 13): each download writes an event (and
 * the first one after a device changed image a second event) and its device's whole row, 1,000 rows per
 * transaction as the activity writer flushes them, into a log that already holds PREFILL events of 10,000 devices.
 * Prints CPU µs per row, median of ROUNDS transactions, with the event log's (mac, id) index (migration 008, for
 * one device's history) and without it (as migration 003 had it): MACs arrive in no order, so each event lands on
 * its own page of that index.
 *
 *   npm run bench:download-writes        (PREFILL=500000, ROUNDS=15)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { databaseFile, loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { NewEvent } from '../src/db/tables.js';
import { createCatalogue } from '../src/features/catalogue.js';
import type { DeviceChangeRow } from '../src/features/devices/device-writes.js';
import { describeMachine } from './bench-kit.js';

const PREFILL = Number(process.env.PREFILL ?? 500_000);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const ROWS = 1_000;
const DEVICES = 10_000;

const macOf = (n: number) => `5ccf7f00${(n % DEVICES).toString(16).padStart(4, '0')}`;
const someDevice = () => macOf(Math.floor(Math.random() * DEVICES));

let clock = Date.now();
function downloadEvent(): NewEvent {
  return {
    at: clock++,
    type: 'download',
    platform_name: 'Bench',
    mac: someDevice(),
    from_version: '1.0.0',
    to_version: '2.0.0',
    decision: 'serve',
    reason: 'newer',
    detail: 'a newer version is released',
    status: 200,
    occurrences: 1,
  };
}

function deviceRow(mac: string): DeviceChangeRow {
  const at = clock++;
  return {
    mac,
    platform_id: null,
    platform_name: 'Bench',
    reported_version: '1.0.0',
    running_image_id: null,
    status: 'outdated',
    last_decision: 'serve',
    last_reason: 'newer',
    downloaded_image_id: null,
    downloads_of_release: 1,
    rollout_id: null,
    rollout_state: null,
    rollout_attempts: 0,
    rollout_first_served_at: null,
    rollout_served_at: null,
    rollout_checks_since_served: 0,
    rollout_outcome_at: null,
    rollout_failure: null,
    family: 'esp8266',
    ip: '127.0.0.1',
    sdk_version: null,
    free_space: 3_000_000,
    chip_size: null,
    sketch_md5: null,
    changed_at: at,
    first_seen_at: at,
    last_seen_at: at,
    check_count: 1,
    download_count: 1,
  };
}

/** Distinct devices, as one flush holds each device once. */
function someDevices(): string[] {
  const macs = new Set<string>();
  while (macs.size < ROWS) macs.add(someDevice());
  return [...macs];
}

/** CPU (user + system) µs per row of one transaction of ROWS rows, median of ROUNDS. */
async function perRow(work: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / ROWS);
  }
  return times.sort((a, b) => a - b)[ROUNDS >> 1]!;
}

async function main(): Promise<void> {
  console.log(describeMachine('download writes'));
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-download-writes-'));
  const db = createDatabase({ kind: 'sqlite', file: databaseFile(loadConfig({ env: {}, flags: { data: work } })) });
  try {
    await migrateToLatest(db);
    const catalogue = createCatalogue(db);
    const started = Date.now() - PREFILL;
    for (let first = 0; first < PREFILL; first += 10_000) {
      const count = Math.min(10_000, PREFILL - first);
      await catalogue.stores.events.append(
        Array.from({ length: count }, (_, i) => ({
          at: started + first + i,
          type: 'check',
          platform_name: 'Bench',
          mac: macOf(first + i),
          from_version: '2.0.0',
          to_version: null,
          decision: 'not-modified',
          reason: 'current',
          detail: 'the device runs the released version',
          status: 304,
        })),
      );
    }
    for (const index of ['with', 'without'] as const) {
      if (index === 'without') await sql`drop index if exists events_mac`.execute(db);
      const events = await perRow(() =>
        catalogue.transactUnflushed((stores) => stores.events.append(Array.from({ length: ROWS }, downloadEvent))),
      );
      const devices = await perRow(() =>
        catalogue.transactUnflushed((stores) => stores.deviceWrites.changes(someDevices().map(deviceRow))),
      );
      console.log(
        `${index.padEnd(7)} the events (mac, id) index: a download event ${events.toFixed(1)} µs, a device's row ${devices.toFixed(1)} µs (CPU per row, ${PREFILL.toLocaleString('en')} events kept)`,
      );
    }
  } finally {
    await db.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
