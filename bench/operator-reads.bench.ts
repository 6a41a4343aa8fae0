/**
 * The operator's reads at a million devices (issue 13 §2: each ≤ 200 ms, server-side with indexes and paging), on
 * SQLite and on PostgreSQL: a real server process (from the sources, on CPU 0) over a database filled with DEVICES
 * devices, each read timed over HTTP (median of 5) by operator-reads.ts.
 *
 *   npm run bench:reads                                  # 1,000,000 devices, SQLite, and PostgreSQL if a URL is set
 *   DEVICES=100000 STORES=sqlite npm run bench:reads
 *   ESP_OTA_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:reads   (else ESP_OTA_TEST_PG_URL)
 *
 * The fill: the server creates the platforms and releases 2.0.0 on each (real uploads), stops, and the devices, a
 * first-seen event each and some allowlist labels are written straight into its database (SQLite: prepared INSERTs,
 * 100,000 rows a transaction; PostgreSQL: INSERT … SELECT FROM json_populate_recordset, 10,000 rows a statement):
 * rows as the fleet writes them, with statuses that
 * agree with the release, so the restarted server's status pass changes nothing. The server is then restarted and
 * loads them; reads start once its registry is loaded.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite from 'better-sqlite3';
import pg from 'pg';
import { createDatabase } from '../src/db/database.js';
import { buildEsp8266App } from '../test/synthetic/image-builder.js';
import { describeMachine, killAll, ROOT, startOnCpu0, stop, waitFor } from './bench-kit.js';
import { measureReads } from './operator-reads.js';

const DEVICES = Number(process.env.DEVICES ?? 1_000_000);
const STORES = (process.env.STORES ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.ESP_OTA_BENCH_PG_URL ?? process.env.ESP_OTA_TEST_PG_URL;
const TOKEN = 'bench-token-0123456789';
const PASSWORD = 'bench-password-0123';
const PORT = 18323;
const BASE = `http://127.0.0.1:${PORT}`;
const PLATFORMS = ['Fleet', 'Lamp', 'Strip'] as const;
const RELEASED = '2.0.0';
const OLDER = ['1.0.0', '1.1.0', '1.2.0', '1.9.0', '1.10.0', '1.10.1'];
const LABELLED = 1_000;

/** The device the reads look at, in the middle of the fill: its history has a few dozen events. */
const PROBE_MAC = `5ccf7f${Math.floor(DEVICES / 2)
  .toString(16)
  .padStart(6, '0')}`;

function startServer(data: string, databaseUrl: string | undefined, logFile: string): ChildProcess {
  return startOnCpu0(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/main.ts'),
      'serve',
      ...['--host', '127.0.0.1', '--port', String(PORT), '--data', data],
      ...(databaseUrl ? ['--database-url', databaseUrl] : []),
    ],
    { ESP_OTA_API_TOKEN: TOKEN, ESP_OTA_ADMIN_PASSWORD: PASSWORD, ESP_OTA_LOG_LEVEL: 'info' },
    logFile,
  );
}

async function waitForRegistry(logFile: string): Promise<string> {
  for (;;) {
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('device registry loaded'));
    if (line) {
      const { devices, ms } = JSON.parse(line) as { devices: number; ms: number };
      return `${devices.toLocaleString('en')} devices loaded in ${(ms / 1000).toFixed(1)} s`;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The platforms, each with 2.0.0 uploaded and released, through the REST API of a first start. */
async function setUp(data: string, databaseUrl: string | undefined, logFile: string): Promise<void> {
  const server = startServer(data, databaseUrl, logFile);
  await waitFor(`${BASE}/healthz`);
  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const name of PLATFORMS) {
    const created = await fetch(`${BASE}/api/v1/platforms`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name, accessMode: 'open' }),
    });
    if (created.status !== 201) throw new Error(`platform ${name}: ${created.status} ${await created.text()}`);
    const image = buildEsp8266App({ strings: [`ESP-OTA:platform=${name};version=${RELEASED}`] });
    const upload = await fetch(`${BASE}/api/v1/firmware`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(image),
    });
    if (upload.status !== 201) throw new Error(`upload ${name}: ${upload.status} ${await upload.text()}`);
  }
  await stop(server);
}

/** Device i as the fleet would have written it; statuses agree with 2.0.0 released on every platform. */
function deviceRow(i: number, platformIds: Map<string, number>, now: number) {
  const mac = `5ccf7f${i.toString(16).padStart(6, '0')}`;
  const platform = i % 10 < 6 ? 'Fleet' : i % 10 < 9 ? 'Lamp' : 'Strip';
  const kind = i % 100; // 0–69 current, 70–93 outdated, 94–95 newer, 96–97 no version, 98–99 refused
  const version =
    kind < 70 ? RELEASED : kind < 94 ? OLDER[i % OLDER.length]! : kind < 96 ? '2.1.0' : kind < 98 ? null : '1.9.0';
  const status =
    kind < 70 ? 'current' : kind < 94 ? 'outdated' : kind < 96 ? 'newer' : kind < 98 ? 'unknown' : 'refused';
  const decision = kind >= 98 ? 'refuse' : status === 'outdated' ? 'serve' : 'not-modified';
  // Last seen within the last day, in an order unrelated to the MAC's.
  const at = now - ((i * 7919) % DEVICES) * Math.floor(86_400_000 / DEVICES) - 1;
  const stuck = status === 'outdated' && i % 2000 === 71; // keeps downloading the release: "needs attention"
  return {
    mac,
    platform_id: platformIds.get(platform)!,
    platform_name: platform,
    family: i % 5 === 0 ? 'esp32' : 'esp8266',
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    reported_version: version,
    sdk_version: '2.2.2-dev(38a443e)',
    free_space: 3_000_000,
    chip_size: 4_194_304,
    sketch_md5: null,
    first_seen_at: at - 3_600_000,
    last_seen_at: at,
    check_count: 24,
    download_count: stuck ? 3 : 0,
    downloaded_image_id: null,
    downloads_of_release: stuck ? 3 : 0,
    last_decision: decision,
    last_reason: kind >= 98 ? 'insufficient-space' : status === 'outdated' ? 'different-version' : 'current',
    running_image_id: null,
    status,
    changed_at: at,
    rollout_id: null,
    rollout_state: null,
    rollout_first_served_at: null,
    rollout_served_at: null,
    rollout_outcome_at: null,
    rollout_failure: null,
  };
}

type Row = Record<string, unknown>;

/** Writes rows fast: prepared statements in big transactions on SQLite, JSON batches of 10,000 on PostgreSQL. */
interface BulkWriter {
  write(table: string, rows: Row[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteWriter(file: string): BulkWriter {
  const db = new BetterSqlite(file);
  const statements = new Map<string, BetterSqlite.Statement>();
  return {
    write: async (table, rows) => {
      const columns = Object.keys(rows[0]!);
      const key = `${table}:${columns.join(',')}`;
      let insert = statements.get(key);
      if (!insert) {
        insert = db.prepare(
          `insert into ${table} (${columns.join(',')}) values (${columns.map((c) => '@' + c).join(',')})`,
        );
        statements.set(key, insert);
      }
      db.transaction(() => {
        for (const row of rows) insert.run(row);
      })();
    },
    close: async () => void db.close(),
  };
}

async function postgresWriter(url: string): Promise<BulkWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    write: async (table, rows) => {
      const columns = Object.keys(rows[0]!).join(',');
      for (let i = 0; i < rows.length; i += 10_000) {
        await client.query(
          `insert into ${table} (${columns}) select ${columns} from json_populate_recordset(null::${table}, $1)`,
          [JSON.stringify(rows.slice(i, i + 10_000))],
        );
      }
    },
    close: () => client.end(),
  };
}

async function fill(writer: BulkWriter, platformIds: Map<string, number>): Promise<void> {
  const now = Date.now();
  const BATCH = 100_000;
  for (let start = 0; start < DEVICES; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(start + BATCH, DEVICES); i++) rows.push(deviceRow(i, platformIds, now));
    await writer.write('devices', rows);
    await writer.write(
      'events',
      rows.map((d) => ({
        at: d.first_seen_at,
        type: 'first-seen',
        platform_name: d.platform_name,
        mac: d.mac,
        from_version: null,
        to_version: d.reported_version,
        decision: d.last_decision,
        reason: d.last_reason,
        detail: null,
        status: 304,
        occurrences: 1,
      })),
    );
  }
  // The probe device's history: 40 more events, the newest in the log.
  await writer.write(
    'events',
    Array.from({ length: 40 }, (_, n) => ({
      at: now - 1000 + n,
      type: 'update',
      platform_name: 'Fleet',
      mac: PROBE_MAC,
      from_version: '1.9.0',
      to_version: RELEASED,
      decision: 'serve',
      reason: 'different-version',
      detail: null,
      status: 200,
      occurrences: 1,
    })),
  );
  const labelled = [];
  for (let n = 0; n < LABELLED; n++) {
    const row = deviceRow(n * Math.floor(DEVICES / LABELLED), platformIds, now);
    labelled.push({ platform_id: row.platform_id, mac: row.mac, label: `Kitchen lamp ${n}`, created_at: now });
  }
  await writer.write('allowlist', labelled);
}

async function runOn(store: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-reads-'));
  const data = join(work, 'data');
  const logFile = join(work, 'server.log');
  let databaseUrl: string | undefined;
  let dropDatabase = async () => undefined as void;
  if (store === 'postgres') {
    if (!PG_URL) {
      console.log('postgres: skipped (set ESP_OTA_BENCH_PG_URL or ESP_OTA_TEST_PG_URL)');
      return;
    }
    const name = `esp_ota_bench_reads_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  }
  try {
    console.log(`\n== ${store}: ${DEVICES.toLocaleString('en')} devices`);
    await setUp(data, databaseUrl, logFile);
    const db = createDatabase(
      databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'sqlite', file: join(data, 'esp-ota.sqlite') },
    );
    const platforms = await db.selectFrom('platforms').select(['id', 'name']).execute();
    await db.destroy();
    let started = performance.now();
    const writer = databaseUrl ? await postgresWriter(databaseUrl) : sqliteWriter(join(data, 'esp-ota.sqlite'));
    await fill(writer, new Map(platforms.map((p) => [p.name, Number(p.id)])));
    await writer.close();
    if (databaseUrl) {
      // PostgreSQL's autovacuum analyses a table this size by itself soon after; done here so the first reads do not
      // depend on when. SQLite is left as the server leaves it (no ANALYZE).
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query('analyze');
      await client.end();
    }
    console.log(
      `fill: ${DEVICES.toLocaleString('en')} devices + as many events in ${((performance.now() - started) / 1000).toFixed(0)} s (bulk inserts)`,
    );
    started = performance.now();
    // A log of its own: the first start's "registry loaded" line must not be taken for this one's.
    const measuredLog = join(work, 'server-measured.log');
    const server = startServer(data, databaseUrl, measuredLog);
    await waitFor(`${BASE}/healthz`);
    console.log(`registry: ${await waitForRegistry(measuredLog)}`);
    console.log(`restart and registry load: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(describeMachine('reads start'));
    await measureReads(BASE, TOKEN, PASSWORD, DEVICES, PROBE_MAC);
    await stop(server);
  } finally {
    await dropDatabase();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(describeMachine('start'));
  for (const store of STORES) await runOn(store);
}

main().then(
  () => killAll(),
  (error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  },
);
