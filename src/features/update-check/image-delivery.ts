import type { IncomingHttpHeaders } from 'node:http';
import { parseRange } from '../../http/byte-range.js';

/**
 * How a request that was offered an image is answered, from its method and headers alone (no bytes are needed to
 * decide): 304 for the image's own ETag, 416 for a range past the end, otherwise 200 or 206 with or without a body.
 */
export type ImageDelivery =
  { status: 304 } | { status: 416 } | { status: 200 | 206; start: number; end: number; body: boolean };

export function planImageDelivery(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  image: { sha256: string; size: number },
): ImageDelivery {
  if (headers['if-none-match'] === `"${image.sha256}"`) return { status: 304 };
  const range = parseRange(headers.range, image.size);
  if (range.kind === 'unsatisfiable') return { status: 416 };
  const body = method !== 'HEAD';
  if (range.kind === 'range') return { status: 206, start: range.start, end: range.end, body };
  return { status: 200, start: 0, end: image.size - 1, body };
}
