import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';

const MAX_NAME = 64;
/** How many MACs one request may add or remove: a bulk paste of a fleet, not a denial of service. */
export const MAX_MACS = 10_000;

/**
 * Group names are typed on the command line and in URLs: a letter or digit, then letters, digits, spaces, `.`, `_`,
 * `-`. `@` never appears, so the implicit group that pins one device (`@` + its MAC) cannot clash with a person's.
 */
export function validateGroupName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length === 0 || trimmed.length > MAX_NAME || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u.test(trimmed)) {
    throw new DomainError(
      'invalid-name',
      `a group name is 1–${MAX_NAME} letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return trimmed;
}

export function groupKey(name: string): string {
  return name.trim().toLowerCase();
}

/** The implicit group holding one device's own pin on a platform. */
export function devicePinKey(mac: string): string {
  return `@${mac}`;
}

export function isDevicePin(nameKey: string): boolean {
  return nameKey.startsWith('@');
}

/** Normalised, de-duplicated MACs in the order given; all invalid ones named in one 400, so nothing is half-added. */
export function parseMacs(inputs: readonly string[]): string[] {
  if (inputs.length > MAX_MACS) throw new DomainError('bad-request', `at most ${MAX_MACS} MACs at once`);
  const macs = new Set<string>();
  const invalid: string[] = [];
  for (const input of inputs) {
    const mac = normalizeMac(input);
    if (mac) macs.add(mac);
    else invalid.push(input);
  }
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 10).map((m) => JSON.stringify(m.slice(0, 40)));
    const more = invalid.length > shown.length ? ` and ${invalid.length - shown.length} more` : '';
    throw new DomainError('invalid-mac', `not MAC addresses: ${shown.join(', ')}${more} (e.g. 5C:CF:7F:12:34:56)`, {
      invalid: invalid.slice(0, 100),
    });
  }
  return [...macs];
}

export function parseMac(input: string): string {
  const mac = normalizeMac(input);
  if (!mac) throw new DomainError('invalid-mac', `"${input}" is not a MAC address (e.g. 5C:CF:7F:12:34:56)`);
  return mac;
}
