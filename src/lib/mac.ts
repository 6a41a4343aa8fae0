/**
 * MAC addresses are stored as 12 lower-case hex digits (what the original server stored). People and devices write
 * them as `5C:CF:7F:12:34:56`, `5c-cf-7f-12-34-56`, `5ccf.7f12.3456` or `5ccf7f123456`.
 */
const SEPARATED = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;
const DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i;
const BARE = /^[0-9a-f]{12}$/i;

export function normalizeMac(input: string): string | undefined {
  const text = input.trim();
  if (!SEPARATED.test(text) && !DOTTED.test(text) && !BARE.test(text)) return undefined;
  return text.replace(/[^0-9a-f]/gi, '').toLowerCase();
}

/** `5C:CF:7F:12:34:56`, as the devices send it. */
export function formatMac(normalized: string): string {
  return normalized.toUpperCase().replace(/(..)(?=.)/g, '$1:');
}
