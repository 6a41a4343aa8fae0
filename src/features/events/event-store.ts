import type { Database } from '../../db/database.js';
import type { EventRow, NewEvent } from '../../db/tables.js';

export interface EventQuery {
  platform?: string | undefined;
  mac?: string | undefined;
  decision?: string | undefined;
  type?: string | undefined;
  /** Only events with a smaller id (the page before). */
  beforeId?: number | undefined;
  limit: number;
}

export class EventStore {
  constructor(private readonly db: Database) {}

  async append(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    // SQLite allows 32,766 bound parameters per statement; 10 columns × 500 rows stays well inside that.
    for (let i = 0; i < events.length; i += 500) {
      await this.db
        .insertInto('events')
        .values(events.slice(i, i + 500))
        .execute();
    }
  }

  list(query: EventQuery): Promise<EventRow[]> {
    let q = this.db.selectFrom('events').selectAll();
    if (query.platform) q = q.where('platform_name', '=', query.platform);
    if (query.mac) q = q.where('mac', '=', query.mac);
    if (query.decision) q = q.where('decision', '=', query.decision);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.beforeId) q = q.where('id', '<', query.beforeId);
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }
}
