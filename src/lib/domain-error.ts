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
  /** Not one PEM public key of a type an ESP client verifies with (issue 17). */
  'invalid-public-key': 400,
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
  /** The device has no per-device manifest key on that platform. */
  'unknown-device-key': 404,
  'unknown-webhook': 404,
  'unknown-key': 404,
  /** The image carries no public key to adopt. */
  'no-embedded-key': 404,
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
  /** A running or paused rollout needs the image (its target or the release it rolls back to). */
  'image-in-rollout': 409,
  'key-exists': 409,
  /** The new image is signed by other keys than the deployed one: boards that trust only those would reject it. */
  'key-change-unconfirmed': 409,
  /** A release carries one install asset: remove it before adding another. */
  'install-asset-exists': 409,
  'upload-too-large': 413,
  'unsupported-media-type': 415,
  'firmware-rejected': 422,
  'identity-needed': 422,
  'wrong-chip': 422,
  'wrong-kind': 422,
  /** The platform has trusted keys and the image is not signed (docs/security.md). */
  'unsigned-image': 422,
  /** The platform has trusted keys and none verifies the image's signature. */
  'wrong-signing-key': 422,
  /** ESP8266: the signed image's flash-mode byte is not the boards' (protocol.md §7.1). */
  'flash-mode-mismatch': 422,
  /** ESP8266: a signed .gz whose length cores 3.1.0–3.1.2 fail on (protocol.md §7.1). */
  'gzip-length-trap': 422,
  /** Not a factory image or a valid bootloader/partition table/app set (README "Installing from a browser"). */
  'install-asset-rejected': 422,
  /** The install asset would write another application than the release's OTA image. */
  'install-app-mismatch': 422,
  'too-many-attempts': 429,
  'server-busy': 503,
  /** The database is out of reach, busy, full or read-only: nothing was changed, try again shortly. */
  'database-unavailable': 503,
  'storage-unavailable': 503,
  /** Server-side signing is configured but its key file or sign-command failed: nothing was kept. */
  'signing-unavailable': 503,
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
