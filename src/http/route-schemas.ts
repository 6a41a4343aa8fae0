import { Type } from '@fastify/type-provider-typebox';
import { MAX_ROW_ID } from '../lib/row-id.js';

/**
 * Bounds shared by route schemas, so that numbers no column can hold are a 400 before they reach SQL (PostgreSQL
 * refuses them with an error, SQLite would compare them silently).
 */

/** The id of an image, event or token. */
export const RowId = (options: { description?: string } = {}) =>
  Type.Integer({ minimum: 1, maximum: MAX_ROW_ID, ...options });

/** A size in bytes stored in a column: flash and partitions are far below 2 GiB. */
export const ByteSize = () => Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 });

/** A look-back in hours: a century is more than any inventory holds, and keeps the cut-off a valid time. */
export const Hours = (options: { description?: string } = {}) =>
  Type.Number({ minimum: 0, maximum: 24 * 365 * 100, ...options });
