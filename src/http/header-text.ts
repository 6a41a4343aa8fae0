/** Visible ASCII and spaces: what a header value can carry as it is. `%` is left out so that encoding is undone. */
const AS_IS = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * A stored text made safe for a response header. Everything that enters the catalogue is validated (versions are
 * printable ASCII), but rows written before that rule, by an old import, or by hand may hold anything; Node refuses
 * such a header value (ERR_INVALID_CHAR) and a CR/LF would split the header. Text outside visible ASCII is
 * percent-encoded as UTF-8 instead (`2.0€` → `2.0%E2%82%AC`), so the answer is still sent and still says which
 * version it is.
 */
export function headerText(text: string): string {
  if (AS_IS.test(text)) return text;
  let safe = '';
  for (const char of text) {
    safe += AS_IS.test(char)
      ? char
      : Array.from(Buffer.from(char, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(
          '',
        );
  }
  return safe;
}
