import { DomainError } from '../../lib/domain-error.js';
import { parseImageSignature } from './image-signature.js';

/** The keys the deployed image is signed by, and those the new one is (empty: unsigned). */
export interface KeyChange {
  from: string[];
  to: string[];
}

/**
 * Whether moving boards from the deployed image to `next` changes the signing key. Boards that verify trust the key
 * of what they run (ESP-IDF: the running app's key digests; ESP8266 and arduino-esp32: the key compiled in), so an
 * image signed by another key, or not at all, is downloaded and thrown away, and for ESP-IDF a key rotation must go
 * through an image signed by both keys (docs/security.md). Pure: two stored signatures in, a change or nothing out.
 * Images from before signatures were recorded (null) tell nothing and never count as a change.
 */
export function keyChange(deployed: string | null | undefined, next: string | null | undefined): KeyChange | undefined {
  const before = parseImageSignature(deployed ?? null);
  const after = parseImageSignature(next ?? null);
  if (!before || !after || before.keyDigests.length === 0) return undefined;
  if (after.keyDigests.some((digest) => before.keyDigests.includes(digest))) return undefined;
  return { from: before.keyDigests, to: after.keyDigests };
}

export function describeKeyChange(change: KeyChange): string {
  const keys = (digests: string[]) =>
    digests.length ? digests.map((d) => d.slice(0, 16) + '…').join(', ') : 'no key (unsigned)';
  return `the deployed image is signed by ${keys(change.from)}, this one by ${keys(change.to)}`;
}

/** A 409 unless the person confirmed the change. */
export function requireKeyChangeConfirmed(change: KeyChange | undefined, confirmed: boolean | undefined): void {
  if (!change || confirmed === true) return;
  throw new DomainError(
    'key-change-unconfirmed',
    `${describeKeyChange(change)}: boards that trust only the deployed key will download it and reject it. Confirm the key change (confirmKeyChange=true, esp-ota … --confirm-key-change) once the boards trust the new key (docs/security.md "Key rotation")`,
    { keyChange: change },
  );
}
