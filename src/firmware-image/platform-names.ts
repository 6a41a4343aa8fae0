import { IS_ALNUM, IS_PRINTABLE, LOWER, latin1, printableRun } from './ascii.js';

export interface PlatformMention {
  name: string;
  offset: number;
  /** The readable string the name was found in. */
  context: string;
}

/** A mention must sit in a readable string at least this long, so random bytes cannot spell a short name. */
const MIN_RUN = 4;

/**
 * Finds known platform names in a binary as whole tokens: case-insensitive, compared as literal bytes (never as a
 * regex), not preceded or followed by a letter or digit, so `chase` does not match inside `chaser`. Built once per
 * set of names; one pass over the bytes with a two-byte prefix filter keeps this fast with thousands of names.
 */
export class PlatformNameIndex {
  private readonly prefixBits = new Uint8Array(65536 / 8);
  /** Names of 2–3 bytes by their first two bytes; longer names by their first four, so shared prefixes stay cheap. */
  private readonly shortByPrefix = new Map<number, NameEntry[]>();
  private readonly longByPrefix = new Map<number, NameEntry[]>();
  private readonly byLowerName = new Map<string, string>();

  constructor(names: Iterable<string>) {
    for (const name of names) {
      this.byLowerName.set(name.trim().toLowerCase(), name);
      const lower = Uint8Array.from(Buffer.from(name, 'utf8'), (b) => LOWER[b]!);
      if (lower.length < 2 || !lower.every((b) => IS_PRINTABLE[b] || b >= 0x80)) continue;
      const key = (lower[0]! << 8) | lower[1]!;
      this.prefixBits[key >> 3]! |= 1 << (key & 7);
      const [map, mapKey] = lower.length >= 4 ? [this.longByPrefix, key4(lower, 0)] : [this.shortByPrefix, key];
      const bucket = map.get(mapKey) ?? [];
      bucket.push({ name, lower });
      map.set(mapKey, bucket);
    }
  }

  /** The stored spelling of a known name, matched case-insensitively. */
  canonical(name: string): string | undefined {
    return this.byLowerName.get(name.trim().toLowerCase());
  }

  find(bytes: Uint8Array): PlatformMention[] {
    const mentions: PlatformMention[] = [];
    if (this.shortByPrefix.size === 0 && this.longByPrefix.size === 0) return mentions;
    // Local aliases: module-level imports can be getters under some loaders, which costs ~5× in this loop.
    const lowerOf = LOWER;
    const isAlnum = IS_ALNUM;
    const bits = this.prefixBits;
    const last = bytes.length - 1;
    let key = lowerOf[bytes[0] ?? 0]!;
    for (let i = 0; i < last; i++) {
      key = ((key << 8) | lowerOf[bytes[i + 1]!]!) & 0xffff;
      if ((bits[key >> 3]! & (1 << (key & 7))) === 0) continue;
      if (i > 0 && isAlnum[bytes[i - 1]!]) continue;
      const short = this.shortByPrefix.get(key);
      const long = i + 4 <= bytes.length ? this.longByPrefix.get(key4(bytes, i)) : undefined;
      if (!short && !long) continue;
      for (const candidate of short && long ? [...short, ...long] : (short ?? long)!) {
        const end = i + candidate.lower.length;
        if (end > bytes.length || (end < bytes.length && IS_ALNUM[bytes[end]!])) continue;
        if (!matchesAt(bytes, i, candidate.lower)) continue;
        const run = printableRun(bytes, i, end);
        if (run.to - run.from < MIN_RUN) continue;
        mentions.push({ name: candidate.name, offset: i, context: latin1(bytes, run.from, run.to) });
      }
    }
    return mentions;
  }
}

interface NameEntry {
  name: string;
  lower: Uint8Array;
}

function key4(bytes: Uint8Array, at: number): number {
  return (
    ((LOWER[bytes[at]!]! << 24) |
      (LOWER[bytes[at + 1]!]! << 16) |
      (LOWER[bytes[at + 2]!]! << 8) |
      LOWER[bytes[at + 3]!]!) >>>
    0
  );
}

function matchesAt(bytes: Uint8Array, at: number, lower: Uint8Array): boolean {
  for (let k = 2; k < lower.length; k++) if (LOWER[bytes[at + k]!] !== lower[k]) return false;
  return true;
}
