import type { Database } from '../../db/database.js';
import type { WebhookDeliveryRow, WebhookRow } from '../../db/tables.js';

/** Deliveries kept per webhook (the newest); older ones are deleted as new ones are written. */
export const DELIVERIES_KEPT = 1000;

export type NewDelivery = Omit<WebhookDeliveryRow, 'id'>;

export class WebhookStore {
  constructor(private readonly db: Database) {}

  list(): Promise<WebhookRow[]> {
    return this.db.selectFrom('webhooks').selectAll().orderBy('id').execute();
  }

  async insert(row: Omit<WebhookRow, 'id'>): Promise<WebhookRow> {
    const { id } = await this.db.insertInto('webhooks').values(row).returning('id').executeTakeFirstOrThrow();
    return { ...row, id: Number(id) };
  }

  find(id: number): Promise<WebhookRow | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async delete(id: number): Promise<boolean> {
    await this.db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
    const result = await this.db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Writes a delivery's outcome, and drops the hook's deliveries older than the last `DELIVERIES_KEPT` written (by any hook). */
  async recordDelivery(row: NewDelivery): Promise<void> {
    const { id } = await this.db.insertInto('webhook_deliveries').values(row).returning('id').executeTakeFirstOrThrow();
    await this.db
      .deleteFrom('webhook_deliveries')
      .where('webhook_id', '=', row.webhook_id)
      .where('id', '<=', Number(id) - DELIVERIES_KEPT)
      .execute();
  }

  /** A hook's deliveries, newest first. */
  deliveries(webhookId: number, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
