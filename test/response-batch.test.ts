import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseBatch } from '../src/http/response-batch.js';

/** Short answers of one event-loop turn go out together; one that cannot be written does not hold up the rest. */
describe('response batch', () => {
  let server: Server;
  let url: string;
  const errors: unknown[] = [];
  const written: string[] = [];
  beforeAll(async () => {
    const batch = new ResponseBatch({ error: (object) => errors.push(object) });
    // The four answers are added in one turn, so they are written in one batch.
    const waiting: [string, ServerResponse][] = [];
    server = createServer((request, response) => {
      waiting.push([request.url!.slice(1), response]);
      if (waiting.length < 4) return;
      for (const [name, answer] of waiting.splice(0)) {
        // A header value with a control character: Node refuses to write it.
        const headers: Record<string, string> = name === 'broken' ? { 'x-version': 'v1\u0001' } : { 'x-name': name };
        batch.add(answer, name === 'broken' ? 200 : 304, headers, undefined, () => written.push(name));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('writes every answer, and drops only the connection of one that cannot be written', async () => {
    const results = await Promise.allSettled(
      ['a', 'broken', 'b', 'c'].map((name) => fetch(`${url}/${name}`).then((r) => [r.status, r.headers.get('x-name')])),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      [304, 'a'],
      'failed',
      [304, 'b'],
      [304, 'c'],
    ]);
    expect(written.sort()).toEqual(['a', 'b', 'broken', 'c']);
    expect(errors).toHaveLength(1);
  });
});
