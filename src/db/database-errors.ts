/**
 * What a database error means for the caller, on either store: the database is out of reach or cannot take writes
 * for now (answer 503 and let the client try again), or a constraint refused a row (the store turns that into its
 * domain error).
 */

interface DriverError {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** PostgreSQL SQLSTATE classes and codes that say "not now" rather than "not this". */
const PG_UNAVAILABLE_CLASSES = ['08', '53']; // connection exception; insufficient resources (disk full, too many connections)
const PG_UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or the server stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '25006', // read_only_sql_transaction: a standby after failover, before it is promoted
]);

/** Socket errors while reaching the database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** node-postgres reports a lost connection or an exhausted pool by message only. */
const PG_CLIENT_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
];

/** SQLite result codes (extended codes share the prefix) for a database that is locked, full or cannot be written. */
const SQLITE_UNAVAILABLE = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
];

/** True when the error says the database is unreachable, busy, full or read-only: a 503, not a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as DriverError;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || PG_UNAVAILABLE_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
    if (SQLITE_UNAVAILABLE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) return true;
  }
  if (typeof message === 'string' && PG_CLIENT_MESSAGES.some((m) => message.startsWith(m))) return true;
  // A connection attempt to several addresses fails with one error per address.
  return Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable);
}

/** A UNIQUE or PRIMARY KEY constraint refused the row. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as DriverError | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A FOREIGN KEY constraint refused the change (a row points at one that is missing, or would be). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as DriverError | undefined)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Runs a write and turns the constraint it may hit into the domain error its store names: concurrent writers can
 * both pass a check made before the write, and the constraint is then what decides.
 */
export async function refusedAs<T>(
  write: Promise<T>,
  errors: { unique?: () => Error; foreignKey?: () => Error },
): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (errors.unique && isUniqueViolation(error)) throw errors.unique();
    if (errors.foreignKey && isForeignKeyViolation(error)) throw errors.foreignKey();
    throw error;
  }
}
