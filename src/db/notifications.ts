import { sql } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { isPostgres } from './schema-helpers.js';

/**
 * PostgreSQL's LISTEN/NOTIFY between instances on one database (docs/deployment.md "Several instances"). SQLite has
 * one process per database file, so there sending is a no-op and nothing listens.
 */
export const CHANNELS = {
  /** A catalogue write committed (platforms, images, allowlists, releases, settings); payload: a name key or `*`. */
  catalogue: 'esp_ota_catalogue',
  /** Device rows written by an instance; payload: `<instance id>|<mac>,<mac>,…`. */
  devices: 'esp_ota_devices',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; payloads are kept well under it. */
export const MAX_PAYLOAD_BYTES = 7_900;

/**
 * Sends a notification on `db`. Inside a transaction it is delivered when (and only if) the transaction commits,
 * which is why catalogue writes send it on their own transaction.
 */
export async function notify(db: Database, channel: Channel, payload: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** Joins `items` after `prefix` with commas, into as many payloads as the size limit needs (ASCII items). */
export function chunkPayloads(prefix: string, items: readonly string[], maxBytes = MAX_PAYLOAD_BYTES): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const item of items) {
    if (current && prefix.length + current.length + 1 + item.length > maxBytes) {
      payloads.push(prefix + current);
      current = '';
    }
    current = current ? `${current},${item}` : item;
  }
  if (current) payloads.push(prefix + current);
  return payloads;
}

export interface ListenerEvents {
  /** Connected and listening; `again` after a connection was lost (notifications may have been missed meanwhile). */
  connected(again: boolean): void;
  lost(error: unknown): void;
}

/** Shown in pg_stat_activity, so that an operator (or a test) can tell the listening connection from the pool's. */
export const LISTENER_APPLICATION_NAME = 'esp-ota-listener';

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

/**
 * One dedicated connection (not the pool's: a pooled connection is handed to other work and its LISTEN would be
 * lost with it) that listens on some channels. When the connection drops it reconnects, waiting 100 ms, then twice
 * as long each time up to 5 s; meanwhile the callers fall back to their periodic refresh.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private everConnected = false;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly handlers: Partial<Record<Channel, (payload: string) => void>>,
    private readonly events: ListenerEvents,
  ) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Resolves after the first attempt, connected or not (a failed attempt is retried in the background). */
  start(): Promise<void> {
    return this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: 5_000,
      // A dead peer (network cut, failover) is noticed by TCP keep-alive rather than never.
      keepAlive: true,
    });
    let gone = false;
    const lost = (error: unknown) => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.events.lost(error);
      this.scheduleRetry();
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('the notification connection ended')));
    client.on('notification', (message) => {
      this.handlers[message.channel as Channel]?.(message.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of Object.keys(this.handlers)) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      lost(error);
      return;
    }
    if (gone) return;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    // A first connection that needed retries may also have missed notifications: the callers catch up either way.
    const again = this.everConnected || this.failures > 0;
    this.failures = 0;
    this.everConnected = true;
    this.events.connected(again);
  }

  private scheduleRetry(): void {
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.failures, LAST_RETRY_MS);
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
