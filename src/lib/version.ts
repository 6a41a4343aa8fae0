import semver from 'semver';

/**
 * The one place versions are parsed and compared (README "How versions are compared").
 *
 * Orderable versions: up to three numeric parts with an optional `v`, a semver pre-release and build
 * (`v1.2.3-rc.1+abc`, calendar versions such as `2024.10.2`, a bare `1` or `1.2`, read as `1.0.0` / `1.2.0`), and a
 * `git describe` suffix `-N-gHASH[-dirty]`, which means N commits *after* the tag: 1.2.3 < 1.2.3-4-gabc < 1.2.4.
 * Tasmota's four-number builds (`14.3.0.2`) are read the same way: 14.3.0 < 14.3.0.2 < 14.3.1.
 * Anything else (`3d4085c-dirty`, `heads/main`) is an opaque label: equal only to itself, never older or newer.
 */
export interface ParsedVersion {
  raw: string;
  /** `major.minor.patch[-pre]` for semver ordering, without build metadata or the describe suffix. */
  semver: string;
  /** Commits after the tag, from a `git describe` suffix (0 without one). */
  commitsAfter: number;
  dirty: boolean;
}

const DESCRIBE_SUFFIX = /-(\d+)-g([0-9a-f]{4,40})(-dirty)?$/i;
const NUMERIC = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?)((?:\+[0-9A-Za-z.-]+)?)$/;
/** Tasmota's development builds have a fourth number, builds after the release: `14.3.0.2` (protocol.md §6.3). */
const FOUR_NUMBERS = /^(v?\d+\.\d+\.\d+)\.(\d+)$/;

export function parseVersion(raw: string): ParsedVersion | undefined {
  const text = raw.trim();
  if (text.length === 0 || text.length > 64) return undefined;
  let rest = text;
  let commitsAfter = 0;
  let dirty = false;
  const describe = DESCRIBE_SUFFIX.exec(rest);
  if (describe) {
    commitsAfter = Number(describe[1]);
    dirty = describe[3] !== undefined;
    rest = rest.slice(0, describe.index);
  } else if (/-dirty$/i.test(rest)) {
    dirty = true;
    rest = rest.slice(0, -'-dirty'.length);
  }
  const fourth = FOUR_NUMBERS.exec(rest);
  if (fourth) {
    // Ordered like a `git describe` count; both at once would be two counts of one thing.
    if (describe) return undefined;
    commitsAfter = Number(fourth[2]);
    rest = fourth[1]!;
  }
  const match = NUMERIC.exec(rest);
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', pre = ''] = match;
  const core = [major, minor, patch].map((part) => String(Number(part))).join('.');
  const candidate = core + pre;
  if (!semver.valid(candidate)) return undefined;
  return { raw: text, semver: candidate, commitsAfter, dirty };
}

/**
 * -1 / 0 / 1 when both versions are orderable, `undefined` when either is an opaque label (then only equality of the
 * trimmed strings means "same version"). Build metadata and `-dirty` do not take part in ordering.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  if (a.trim() === b.trim()) return 0;
  const pa = parseCached(a);
  const pb = parseCached(b);
  if (!pa || !pb) return undefined;
  const bySemver = semver.compare(pa.semver, pb.semver);
  if (bySemver !== 0) return bySemver;
  return pa.commitsAfter === pb.commitsAfter ? 0 : pa.commitsAfter < pb.commitsAfter ? -1 : 1;
}

/** Device checks compare the same few version strings over and over; parsing them once is cheaper. */
const parsedCache = new Map<string, ParsedVersion | null>();
const PARSED_CACHE_LIMIT = 10_000;

function parseCached(raw: string): ParsedVersion | undefined {
  let parsed = parsedCache.get(raw);
  if (parsed === undefined) {
    parsed = parseVersion(raw) ?? null;
    if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
    parsedCache.set(raw, parsed);
  }
  return parsed ?? undefined;
}

export function isOrderable(version: string): boolean {
  return parseVersion(version) !== undefined;
}

/** Same version for people: `v1.2.3` and `1.2.3` are one version; opaque labels must match exactly. */
export function sameVersion(a: string, b: string): boolean {
  return compareVersions(a, b) === 0;
}

/** `<version>(<image name>)`, as Tasmota reports what it runs: `14.3.0(tasmota)`, `14.3.0.2(tasmota-DE)`. */
const TASMOTA_RUNNING = /^(.+)\(([A-Za-z0-9_.-]{1,32})\)$/;

/**
 * The version a device reports, without the image name Tasmota appends in parentheses (protocol.md §6.3: it passes
 * `"<version>(<image name>)"` to ESP8266httpUpdate, which sends it as `x-ESP8266-version`). Only an orderable
 * version loses its suffix, so a label that merely ends in parentheses stays as it is.
 */
export function reportedVersion(raw: string): string {
  if (!raw.endsWith(')')) return raw;
  const match = TASMOTA_RUNNING.exec(raw);
  return match && parseCached(match[1]!) ? match[1]! : raw;
}

/** One key per version as `sameVersion` sees it, for uniqueness in the catalogue. */
export function versionKey(version: string): string {
  const parsed = parseVersion(version);
  return parsed ? `${parsed.semver}~${parsed.commitsAfter}` : version.trim();
}

const PRINTABLE_VERSION = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

/**
 * Versions are shown, stored and compared as text: 1–64 printable ASCII characters. ASCII because a version
 * travels in HTTP headers both ways (the device's `x-ESP8266-version`, our `x-version`), and a header carries only
 * that; a version the device could not report would never match anyway. Every way in (upload, REST, UI, import,
 * legacy import, device requests) checks this one rule.
 */
export function isValidVersionText(version: string): boolean {
  return PRINTABLE_VERSION.test(version);
}

/** The rule above in words, for the message of every refusal. */
export const VERSION_TEXT_RULE =
  'a version is 1–64 printable ASCII characters (letters, digits, punctuation, inner spaces; no line breaks, no spaces at either end)';
