import { describe, expect, it } from 'vitest';
import { planImageDelivery, recordedAs } from './image-delivery.js';

const image = { sha256: 'ab'.repeat(32), size: 300_000 };
const plan = (method: string, headers: Record<string, string> = {}) => planImageDelivery(method, headers, image);

describe('image delivery (issue 11)', () => {
  it.each([
    ['GET', {}, 200, 'download'],
    ['GET the first range', { range: 'bytes=0-65536' }, 206, 'download'],
    ['GET the size probe', { range: 'bytes=0-0' }, 206, 'download'],
    ['GET a later range', { range: 'bytes=65536-131072' }, 206, 'continuation'],
    ['GET the open last range', { range: 'bytes=262144-' }, 206, 'continuation'],
    ['GET the last bytes', { range: 'bytes=-100' }, 206, 'continuation'],
    ['HEAD', {}, 200, 'check'],
    ['HEAD with a range', { range: 'bytes=0-0' }, 206, 'check'],
    ['GET with its ETag', { 'if-none-match': `"${image.sha256}"` }, 304, 'check'],
    ['GET past the end', { range: 'bytes=300000-' }, 416, 'check'],
    ['GET with another ETag', { 'if-none-match': '"other"' }, 200, 'download'],
  ])('%s', (what, headers, status, recorded) => {
    const delivery = plan(what.startsWith('HEAD') ? 'HEAD' : 'GET', headers);
    expect(delivery.status).toBe(status);
    expect(recordedAs(delivery)).toBe(recorded);
  });

  it('answers a range with its clamped ends, and a whole image with all of it', () => {
    expect(plan('GET', { range: 'bytes=299990-300000' })).toEqual({
      status: 206,
      start: 299_990,
      end: 299_999,
      body: true,
    });
    expect(plan('GET')).toEqual({ status: 200, start: 0, end: 299_999, body: true });
  });
});
