import { DomainError } from './domain-error.js';

/**
 * Error codes that mean "the storage is full": file systems (ENOSPC; EDQUOT over a quota; EFBIG over the largest
 * file allowed, e.g. by RLIMIT_FSIZE), SQLite, and PostgreSQL (SQLSTATE 53100 disk_full).
 */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL', '53100']);
/** …and "the storage cannot be written": read-only mounts, permissions, a read-only database or standby (25006). */
const UNAVAILABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', '25006']);

/**
 * A storage failure as the error a client should see: 507 `storage-full` or 503 `storage-unavailable`, with a
 * sentence that says what it means for them (`consequence`, e.g. "the upload was not kept"); undefined for any
 * other error, which stays a 500. The original error is kept as the cause, for the log.
 */
export function storageFailure(error: unknown, consequence: string): DomainError | undefined {
  if (error instanceof DomainError) return undefined;
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  const kind = FULL.has(code)
    ? 'full'
    : UNAVAILABLE.has(code.replace(/^(SQLITE_READONLY)_\w+$/, '$1'))
      ? 'unavailable'
      : undefined;
  if (kind === 'full')
    return new DomainError(
      'storage-full',
      `the server's storage is full (${code}): ${consequence}; free some space and try again`,
      undefined,
      { cause: error },
    );
  if (kind === 'unavailable')
    return new DomainError(
      'storage-unavailable',
      `the server cannot write to its storage (${code}: read-only, or not permitted): ${consequence}; see the server log`,
      undefined,
      { cause: error },
    );
  return undefined;
}
