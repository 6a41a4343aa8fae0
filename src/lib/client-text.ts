/**
 * Text a person or a device may send: well-formed UTF-16 without NUL or other control characters (tab, line feed
 * and carriage return excepted). Anything else cannot be stored as PostgreSQL text (NUL), cannot be looked up again
 * once stored (an unpaired surrogate becomes U+FFFD on its way back in a URL), or does not belong in a name, label,
 * version or search. One rule, checked where requests enter (http/client-input.ts, the multipart reader, the
 * device request parser), so no route has to remember it.
 */

// eslint-disable-next-line no-control-regex
const FORBIDDEN_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function isClientText(text: string): boolean {
  return text.isWellFormed() && !FORBIDDEN_CONTROLS.test(text);
}

/** Why a text is not client text, as the end of a sentence ("… contains …"); undefined when it is. */
export function whyNotClientText(text: string): string | undefined {
  if (!text.isWellFormed()) return 'broken Unicode (an unpaired surrogate)';
  if (text.includes('\u0000')) return 'a NUL character';
  if (FORBIDDEN_CONTROLS.test(text)) return 'a control character';
  return undefined;
}

/** Nested values are walked this deep at most; JSON deeper than this is not what any route takes. */
const MAX_DEPTH = 32;

/**
 * The first text (key or value) in parsed request data that is not client text, as a sentence for the client; or
 * undefined. `where` names the part of the request ("the query"). Walks without recursion, so deep JSON cannot
 * overflow the stack.
 */
export function findBadText(data: unknown, where: string): string | undefined {
  const pending: { value: unknown; name: string | undefined; depth: number }[] = [
    { value: data, name: undefined, depth: 0 },
  ];
  while (pending.length > 0) {
    const { value, name, depth } = pending.pop()!;
    if (typeof value === 'string') {
      const why = whyNotClientText(value);
      if (why) return `${describe(where, name)} contains ${why}`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return `${where} is nested more than ${MAX_DEPTH} levels deep`;
    for (const [key, inner] of Object.entries(value)) {
      const why = whyNotClientText(key);
      if (why) return `a field name in ${where} contains ${why}`;
      pending.push({ value: inner, name: name ?? key, depth: depth + 1 });
    }
  }
  return undefined;
}

/** `"type" in the query`: the name only when it is plain, since it came from the client too. */
function describe(where: string, name: string | undefined): string {
  if (name === undefined) return where;
  return `${quotedName(name) ?? 'a field'} in ${where}`;
}

/** A field or parameter name, quoted, for a message; undefined when it is not plain enough to show. */
export function quotedName(name: string): string | undefined {
  return /^[\w.-]{1,40}$/.test(name) ? `"${name}"` : undefined;
}
