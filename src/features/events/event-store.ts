import { BulkInsert } from '../../db/bulk-insert.js';
import type { Database } from '../../db/database.js';
import type { EventRow, NewEvent } from '../../db/tables.js';

export interface EventQuery {
  platform?: string | undefined;
  mac?: string | undefined;
  /** Part of a MAC: 1 to 12 lower-case hex digits (callers check; the pattern is built from it). */
  macContains?: string | undefined;
  decision?: string | undefined;
  type?: string | undefined;
  /** Only events with a smaller id (the page before). */
  beforeId?: number | undefined;
  /** Only events with a larger id: the `limit` oldest of them, still returned newest first (the page after). */
  afterId?: number | undefined;
  limit: number;
}

const appendEvents = new BulkInsert<NewEvent>(
  [
    'at',
    'type',
    'platform_name',
    'mac',
    'from_version',
    'to_version',
    'decision',
    'reason',
    'detail',
    'status',
    'occurrences',
    'actor',
  ],
  (db, rows) => db.insertInto('events').values(rows),
  undefined,
  { occurrences: 1 },
);

export class EventStore {
  /** `appended`: where a transaction collects what it appended, to tell others once it committed. */
  constructor(
    private readonly db: Database,
    private readonly appended?: NewEvent[],
  ) {}

  async append(events: NewEvent[]): Promise<void> {
    await appendEvents.run(this.db, events);
    this.appended?.push(...events);
  }

  list(query: EventQuery): Promise<EventRow[]> {
    let q = this.db.selectFrom('events').selectAll();
    if (query.platform) q = q.where('platform_name', '=', query.platform);
    if (query.mac) q = q.where('mac', '=', query.mac);
    if (query.macContains) {
      if (!/^[0-9a-f]{1,12}$/.test(query.macContains)) throw new Error('macContains must be lower-case hex digits');
      q = q.where('mac', 'like', `%${query.macContains}%`);
    }
    if (query.decision) q = q.where('decision', '=', query.decision);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.beforeId) q = q.where('id', '<', query.beforeId);
    if (query.afterId) {
      const after = q.where('id', '>', query.afterId).orderBy('id', 'asc').limit(query.limit);
      return after.execute().then((rows) => rows.reverse());
    }
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }

  /**
   * Deletes events older than `cutoff`. Ids grow with time, so the oldest are the lowest ids: a chunk at a time from
   * the oldest, until a chunk holds none older than the cutoff.
   */
  async pruneOlderThan(cutoff: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const oldest = await this.oldestId();
      if (oldest === undefined) return deleted;
      const result = await this.db
        .deleteFrom('events')
        .where('id', '<', oldest + PRUNE_CHUNK)
        .where('at', '<', cutoff)
        .executeTakeFirst();
      const count = Number(result.numDeletedRows);
      if (count === 0) return deleted;
      deleted += count;
      await nextTurn();
    }
  }

  /**
   * Keeps only the newest `keep` events (by id, which events never reuse: at most `keep` remain). The bound comes
   * from the newest id, not from an OFFSET that would walk `keep` rows, and the rows go a chunk at a time.
   */
  async pruneBeyond(keep: number): Promise<number> {
    const newest = await this.db.selectFrom('events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!newest) return 0;
    const bound = newest.id - keep + 1; // ids below this go
    let deleted = 0;
    for (;;) {
      const oldest = await this.oldestId();
      if (oldest === undefined || oldest >= bound) return deleted;
      const result = await this.db
        .deleteFrom('events')
        .where('id', '<', Math.min(bound, oldest + PRUNE_CHUNK))
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
      await nextTurn();
    }
  }

  private async oldestId(): Promise<number | undefined> {
    return (await this.db.selectFrom('events').select('id').orderBy('id').limit(1).executeTakeFirst())?.id;
  }
}

/**
 * Ids per delete statement. A pass after a long outage may delete millions of events: in one statement that held
 * SQLite's only writer (and the event loop, since SQLite runs on it) for seconds; a chunk takes milliseconds, and
 * device checks are answered between chunks.
 */
const PRUNE_CHUNK = 5_000;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
