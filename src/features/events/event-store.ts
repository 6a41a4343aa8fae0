import { BulkInsert } from '../../db/bulk-insert.js';
import type { Database } from '../../db/database.js';
import type { EventRow, NewEvent } from '../../db/tables.js';

export interface EventQuery {
  platform?: string | undefined;
  mac?: string | undefined;
  decision?: string | undefined;
  type?: string | undefined;
  /** Only events with a smaller id (the page before). */
  beforeId?: number | undefined;
  /** Only events with a larger id, oldest first: what a follower (`esp-ota events -f`) has not seen yet. */
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
  constructor(private readonly db: Database) {}

  async append(events: NewEvent[]): Promise<void> {
    await appendEvents.run(this.db, events);
  }

  list(query: EventQuery): Promise<EventRow[]> {
    let q = this.db.selectFrom('events').selectAll();
    if (query.platform) q = q.where('platform_name', '=', query.platform);
    if (query.mac) q = q.where('mac', '=', query.mac);
    if (query.decision) q = q.where('decision', '=', query.decision);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.beforeId) q = q.where('id', '<', query.beforeId);
    if (query.afterId !== undefined)
      return q.where('id', '>', query.afterId).orderBy('id').limit(query.limit).execute();
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }

  /** Deletes events older than `cutoff`. Ids grow with time, so the oldest are the lowest ids. */
  async pruneOlderThan(cutoff: number): Promise<number> {
    const firstKept = await this.db
      .selectFrom('events')
      .select('id')
      .where('at', '>=', cutoff)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    let q = this.db.deleteFrom('events');
    if (firstKept) q = q.where('id', '<', firstKept.id);
    const result = await q.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Keeps only the newest `keep` events. */
  async pruneBeyond(keep: number): Promise<number> {
    const boundary = await this.db
      .selectFrom('events')
      .select('id')
      .orderBy('id', 'desc')
      .offset(keep)
      .limit(1)
      .executeTakeFirst();
    if (!boundary) return 0;
    const result = await this.db.deleteFrom('events').where('id', '<=', boundary.id).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
