import type { DeviceRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';
import { compareVersions, parseVersion } from '../../lib/version.js';
import type { DeviceFilter, DeviceListing } from './device-listing.js';

/**
 * Pages of the device list in one of three orders, newer/older by an opaque cursor (issue 13 §2, issue 14):
 *
 * - `seen`: last seen, then MAC (index `(…, last_seen_at, mac)`);
 * - `mac`: the primary key;
 * - `version`: versions as the server compares them (0.9.0 < 0.10.0 < 1.0.0-rc.1 < 1.0.0; labels that are not
 *   versions after every version, in text order; devices that report none last in both directions), then last seen
 *   and MAC (newest first when descending). No index can hold that order, so the distinct versions (few) are read
 *   with one index seek each and put in order here, and each version's devices are read from the
 *   `([platform_id,] reported_version, last_seen_at, mac)` index in turn until the page is full.
 */
export const DEVICE_LIST_SORTS = ['seen', 'mac', 'version'] as const;
export type DeviceListSort = (typeof DEVICE_LIST_SORTS)[number];

export interface DevicePageRequest {
  sort: DeviceListSort;
  descending: boolean;
  /** A cursor from a page's `next` (the page after it) or `previous` (the page before it). */
  after?: string | undefined;
  before?: string | undefined;
  limit: number;
}

export interface DevicePage {
  devices: DeviceRow[];
  /** Cursor for the page after this one (pass as `after`); null on the last. */
  next: string | null;
  /** Cursor for the page before this one (pass as `before`); null on the first. */
  previous: string | null;
}

interface Position {
  sort: DeviceListSort;
  descending: boolean;
  lastSeenAt: number;
  mac: string;
  version: string | null;
}

const MAC = /^[0-9a-f]{12}$/;

function encode(position: Position): string {
  const { sort, descending, lastSeenAt, mac, version } = position;
  return Buffer.from(JSON.stringify({ s: sort, d: descending ? 1 : 0, t: lastSeenAt, m: mac, v: version })).toString(
    'base64url',
  );
}

const badCursor = (why: string) => new DomainError('bad-request', `invalid page cursor: ${why}`);

/** A cursor back to the position it names; anything not made by `encode` for this order is a 400. */
export function decodeCursor(cursor: string, sort: DeviceListSort, descending: boolean): Position {
  let value: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw new Error();
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('use the next or previous value of a page as it was given');
  }
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null) throw badCursor('not a cursor');
  if (v.s !== sort || v.d !== (descending ? 1 : 0)) throw badCursor('it belongs to another sort order');
  if (typeof v.m !== 'string' || !MAC.test(v.m)) throw badCursor('no device in it');
  if (typeof v.t !== 'number' || !Number.isSafeInteger(v.t) || v.t < 0) throw badCursor('no time in it');
  if (v.v !== null && (typeof v.v !== 'string' || v.v.length > 64)) throw badCursor('no version in it');
  return { sort, descending, lastSeenAt: v.t, mac: v.m, version: v.v };
}

/** Version texts in the version sort's order (ascending): orderable versions, then labels in text order. */
export function compareVersionTexts(a: string, b: string): number {
  const compared = compareVersions(a, b);
  if (compared !== undefined && (compared !== 0 || a === b)) return compared;
  const aOrderable = parseVersion(a) !== undefined;
  const bOrderable = parseVersion(b) !== undefined;
  if (aOrderable !== bOrderable) return aOrderable ? -1 : 1;
  // Two spellings of one version (1.0 and 1.0.0) or two labels: text order keeps the order total.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One page of the filtered list, read a key range at a time; `limit + 1` rows tell whether another page follows. */
export async function devicePage(
  listing: DeviceListing,
  filter: DeviceFilter,
  request: DevicePageRequest,
): Promise<DevicePage> {
  if (request.after !== undefined && request.before !== undefined) {
    throw new DomainError('bad-request', 'give either after or before, not both');
  }
  const { sort, descending, limit } = request;
  const cursor = request.after ?? request.before;
  const from = cursor === undefined ? undefined : decodeCursor(cursor, sort, descending);
  const backwards = request.before !== undefined;
  // Backwards is the same walk in the opposite order, turned round afterwards.
  const walkDescending = backwards ? !descending : descending;
  let rows =
    sort === 'version'
      ? await byVersion(listing, filter, descending, backwards, from, limit + 1)
      : await listing.byKey(filter, sort, walkDescending, from, limit + 1);
  const more = rows.length > limit;
  rows = rows.slice(0, limit);
  if (backwards) rows.reverse();
  const at = (row: DeviceRow | undefined) =>
    row
      ? encode({ sort, descending, lastSeenAt: row.last_seen_at, mac: row.mac, version: row.reported_version })
      : null;
  return {
    devices: rows,
    next: backwards || more ? at(rows.at(-1)) : null,
    previous: backwards ? (more ? at(rows[0]) : null) : from ? at(rows[0]) : null,
  };
}

async function byVersion(
  listing: DeviceListing,
  filter: DeviceFilter,
  descending: boolean,
  backwards: boolean,
  from: Position | undefined,
  limit: number,
): Promise<DeviceRow[]> {
  let sequence: (string | null)[];
  if (filter.version !== undefined) sequence = [filter.version];
  else {
    const { versions, someWithout } = await listing.versions(filter.platformId);
    // The cursor's version may have no devices left; it still marks where the page starts.
    if (typeof from?.version === 'string' && !versions.includes(from.version)) versions.push(from.version);
    versions.sort(compareVersionTexts);
    if (descending) versions.reverse();
    sequence = [...versions, ...(someWithout || from?.version === null ? [null] : [])];
  }
  if (backwards) sequence.reverse();
  const seenDescending = descending !== backwards;
  const start = from ? sequence.indexOf(from.version) : 0;
  const rows: DeviceRow[] = [];
  for (let i = Math.max(start, 0); i < sequence.length && rows.length < limit; i++) {
    const after = from && i === start ? from : undefined;
    rows.push(...(await listing.ofVersion(filter, sequence[i]!, seenDescending, after, limit - rows.length)));
  }
  return rows;
}
