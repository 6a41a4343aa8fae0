import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../schema-helpers.js';

/**
 * PostgreSQL stores firmware bytes uncompressed from now on (`STORAGE EXTERNAL`), so that an image too large for the
 * cache can be streamed with `substr` a chunk at a time: on a compressed value every chunk decompresses everything
 * before it, which makes one download cost quadratic time; uncompressed, each chunk reads only its TOAST pages. Images
 * stored before keep their compression (they are still read correctly, only streamed more slowly). SQLite keeps
 * firmware in files and has nothing to change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) await sql`alter table blobs alter column data set storage external`.execute(db);
}
