/** A header value browsers will not reinterpret: visible ASCII only (no spaces, tabs, CR/LF or other bytes). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** Whitespace and control characters, which URL parsers strip or split on, so `/\t/evil.example` becomes `//…`. */
// eslint-disable-next-line no-control-regex
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

/**
 * Where a redirect target taken from a request (`next=` after logging in) may lead: a path on this site, else `/`.
 * The whole target must be visible ASCII (so it is a valid `Location` header that nothing can split), and its path —
 * as given and once percent-decoded — must start with a single `/` and contain no `//`, no backslash (browsers read
 * `/\host` as `//host`) and no whitespace or control characters. The query and fragment cannot change where the
 * browser goes, so an encoded notice (`?notice=Settings%20saved.`) stays as it is. Every redirect to a target that
 * comes from a request goes through here.
 */
export function sameSiteRedirect(target: string | undefined): string {
  if (!target || !VISIBLE_ASCII.test(target)) return '/';
  const path = target.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return '/';
  }
  const onThisSite = (p: string) =>
    p.startsWith('/') && !p.includes('//') && !p.includes('\\') && !SPACE_OR_CONTROL.test(p);
  return onThisSite(path) && onThisSite(decoded) ? target : '/';
}
