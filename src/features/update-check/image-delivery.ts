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

/**
 * What an image answer means for the device's records. A download starts where a body starts at the first byte (the
 * whole image, or the first of a client's ranges); HEAD, 304 and 416 are checks; the later ranges of a download in
 * pieces (esp_https_ota fetches 64 KiB at a time, and resumes with `bytes=N-`) continue a download already counted
 * and are not recorded again, or one install would look like dozens of checks and downloads.
 */
export function recordedAs(delivery: ImageDelivery): 'download' | 'check' | 'continuation' {
  if (delivery.status === 304 || delivery.status === 416 || !delivery.body) return 'check';
  return delivery.start === 0 ? 'download' : 'continuation';
}
