import type { Kysely } from 'kysely';

/**
 * The event log loses its (mac, id) index. Every device check appends an event, and MACs arrive in no order, so
 * each event landed on its own leaf of that index: with a few hundred thousand events kept it was about two thirds
 * of the cost of writing a check (bench/activity-writes.bench.ts). One device's history is now found by scanning
 * the log newest first, which the event retention bounds (docs/architecture.md has the figures).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_mac').ifExists().execute();
}
