/**
 * The catalogue of errors the services raise. Each has a stable `code` (for machines and the `x-reason` header), an
 * HTTP status, and a message for people. One handler maps them to JSON (API), HTML (UI) or plain text (devices).
 */
export const ERROR_STATUS = {
  'bad-request': 400,
  'invalid-name': 400,
  'invalid-mac': 400,
  'invalid-version': 400,
  'invalid-label': 400,
  unauthorized: 401,
  forbidden: 403,
  'csrf-failed': 403,
  'unknown-platform': 404,
  'unknown-image': 404,
  'unknown-device': 404,
  'unknown-user': 404,
  'unknown-token': 404,
  /** The platform has no rollout running or paused (or none to roll back). */
  'no-rollout': 404,
  'unknown-group': 404,
  /** The platform's released image has no install asset (or the file named is not one of its parts). */
  'no-install-asset': 404,
  'platform-exists': 409,
  'user-exists': 409,
  'version-exists': 409,
  'duplicate-image': 409,
  'project-mismatch': 409,
  'image-released': 409,
  /** A platform runs one rollout at a time. */
  'rollout-active': 409,
  /** The rollout is not in a state that allows this (or someone else moved it first). */
  'rollout-state': 409,
  'group-exists': 409,
  /** A group or a device is pinned to the image: unpin it first. */
  'image-pinned': 409,
  /** A release carries one install asset: remove it before adding another. */
  'install-asset-exists': 409,
  'upload-too-large': 413,
  'unsupported-media-type': 415,
  'firmware-rejected': 422,
  'identity-needed': 422,
  'wrong-chip': 422,
  'wrong-kind': 422,
  /** Not a factory image or a valid bootloader/partition table/app set (README "Installing from a browser"). */
  'install-asset-rejected': 422,
  /** The install asset would write another application than the release's OTA image. */
  'install-app-mismatch': 422,
  'too-many-attempts': 429,
  'server-busy': 503,
  /** The database is out of reach, busy, full or read-only: nothing was changed, try again shortly. */
  'database-unavailable': 503,
  'storage-unavailable': 503,
  'storage-full': 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra facts for API clients (e.g. identity candidates), serialised as `details`. */
    readonly details?: unknown,
    /** The error behind it, for the log (never sent to clients). */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
    this.status = ERROR_STATUS[code];
  }
}
