import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listRoutes, type RouteEntry } from '../src/http/server.js';
import { api, AUTH, loginSession } from './helpers/http.js';
import {
  ECHO_MARKER,
  hostileBody,
  hostileHeaders,
  hostileQuery,
  hostileReportBody,
  hostileSegment,
  IMAGE,
} from './helpers/hostile-input.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Every registered route, driven with hostile path parameters, query strings, bodies and headers by an admin (API
 * token, or a session cookie with its CSRF token). Whatever is sent, the answer is never a 5xx, no header echoes
 * what the client sent, every 4xx says why in its audience's shape (JSON for the API, a page for people, text for
 * devices), and the server logs no error. Seeded, so a failure reproduces: ESP_OTA_FUZZ_SEED=<seed> to explore.
 */
const SEED = Number(process.env.ESP_OTA_FUZZ_SEED ?? 11);
const RUNS_PER_ROUTE = Number(process.env.ESP_OTA_FUZZ_RUNS ?? 20);
/** Only a hang takes this long: the answers themselves take milliseconds. */
const ANSWER_TIMEOUT_MS = 15_000;

interface HostileRequest {
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(baseUrl: string, method: string, request: HostileRequest): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: hostname, port, method, path: request.path, headers: request.headers, timeout: ANSWER_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    // The server may answer and close before reading a body it refuses; that answer is what the test checks.
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** Path parameters that exist, so that some requests get past the lookups to the code behind them. */
const EXISTING: Record<string, string[]> = {
  name: ['Hostile'],
  platform: ['Hostile'],
  mac: ['5CCF7F123456'],
  group: ['lab'],
  /** A device key (ESPHome's per-device manifest), minted in the seed. */
  key: [],
  file: ['tasmota.bin', 'tasmota.bin.gz', 'tasmota-minimal.bin'],
};

/** A device check that would be answered, for hostile parts to be added to. */
function validDeviceQuery(route: RouteEntry): string {
  if (route.url === '/update' || route.url.startsWith('/tasmota/')) return 'dev=Hostile&ver=0.9.0&mac=5CCF7F123456';
  if (route.url.startsWith('/otadrive/')) return 'k=key&v=0.9.0&s=123&mac=5CCF7F123456';
  return route.url.startsWith('/ota/') ? 'mac=5CCF7F123456' : '';
}

interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

/** The query parameters and body fields a route declares in its OpenAPI description (none for hidden routes). */
function declaredInputs(t: TestApp, route: RouteEntry): { query: string[]; body: string[] } {
  const doc = t.app.http.swagger() as { paths?: Record<string, Record<string, OpenApiOperation>> };
  const operation = doc.paths?.[route.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[route.method.toLowerCase()];
  const query = (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const body = Object.keys(operation?.requestBody?.content?.['application/json']?.schema?.properties ?? {});
  return { query, body };
}

function pathFor(route: RouteEntry, segments: readonly string[]): string {
  let index = 0;
  return route.url
    .replace(/:[A-Za-z]+/g, () => segments[index++ % segments.length]!)
    .replace(/\*$/, () => segments[index++ % segments.length]!);
}

describeEachStore('issue 11: hostile input on every route is a 4xx with a reason, never a 5xx', (store) => {
  let t: TestApp;
  const errors: string[] = [];
  let session: { cookie: string; csrf: string };

  beforeAll(async () => {
    const sink = new Writable({
      write(line: Buffer, _encoding, done) {
        const entry = JSON.parse(line.toString()) as { msg: string; err?: { message?: string } };
        errors.push(`${entry.msg}: ${entry.err?.message ?? ''}`);
        done();
      },
    });
    t = await startTestApp(store, {}, { logger: pino({ level: 'error' }, sink) });
    session = await loginSession(t.url);
  });
  afterAll(() => t.stop());

  /** The platform, allowed device and image the requests aim at; put back when a request removed them. */
  async function ensureSeed(): Promise<void> {
    const images = await api<{ images?: { id: number }[] }>(t.url, 'GET', '/api/v1/platforms/Hostile/firmware');
    if (images.status === 200 && images.json.images!.length > 0) {
      EXISTING.id = [String(images.json.images![0]!.id)];
      await api(t.url, 'POST', '/api/v1/platforms/Hostile/groups', { name: 'lab' });
      return;
    }
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Hostile', chip: 'esp8266' });
    await api(t.url, 'POST', '/api/v1/platforms/Hostile/allowlist', { mac: '5CCF7F123456', label: 'seed' });
    const uploaded = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', IMAGE);
    expect(uploaded.status).toBe(201);
    EXISTING.id = [String(uploaded.json.image.id)];
    await api(t.url, 'POST', '/api/v1/platforms/Hostile/groups', { name: 'lab' });
    await api(t.url, 'POST', '/api/v1/platforms/Hostile/groups/lab/members', { macs: ['5CCF7F123456'] });
    const minted = await api<{ key: string }>(t.url, 'POST', '/api/v1/platforms/Hostile/device-keys', {
      mac: '5CCF7F123456',
    });
    EXISTING.key = [minted.json.key];
  }

  it(
    'answers every route without a 5xx, an echoed header or a 4xx without a reason',
    { timeout: 120_000 },
    async () => {
      const routes = listRoutes(t.app.http);
      expect(routes.length).toBeGreaterThan(40);
      const failures: string[] = [];
      /** Routes that answered some request with success: the credentials and seed data work, requests get through. */
      const succeeded = new Set<string>();
      for (const route of routes) {
        await ensureSeed();
        const key = `${route.method} ${route.url}`;
        const protectedRoute = route.access !== 'public' && route.access !== 'device';
        const segment = (name: string) =>
          fc.oneof({ weight: 4, arbitrary: hostileSegment }, fc.constantFrom(...(EXISTING[name] ?? ['1'])));
        const names = [...route.url.matchAll(/:([A-Za-z]+)|\*$/g)].map((m) => m[1] ?? 'rest');
        const declared = declaredInputs(t, route);
        const request = fc.record({
          segments: names.length > 0 ? fc.tuple(...names.map(segment)) : fc.constant(['']),
          query: fc
            .tuple(fc.boolean(), hostileQuery(declared.query))
            .map(([valid, hostile]) => [valid ? validDeviceQuery(route) : '', hostile].filter(Boolean).join('&')),
          body:
            route.method === 'GET' || route.method === 'HEAD'
              ? fc.constant(undefined)
              : route.url === '/ota/:platform/report'
                ? fc.oneof(hostileReportBody, hostileBody(declared.body))
                : hostileBody(declared.body),
          headers: hostileHeaders,
          // A session (cookie + CSRF) or the API token; logging out would end the session the other runs use.
          viaSession: protectedRoute && route.url !== '/logout' ? fc.boolean() : fc.constant(false),
        });
        const result = await fc.check(
          fc.asyncProperty(request, async ({ segments, query, body, headers, viaSession }) => {
            const credentials: Record<string, string> = !protectedRoute
              ? {}
              : viaSession
                ? { cookie: session.cookie, 'x-csrf-token': session.csrf }
                : { ...AUTH };
            const sent: HostileRequest = {
              path: pathFor(route, segments) + (query ? `?${query}` : ''),
              headers: { ...headers, ...credentials },
              body: body?.data,
            };
            if (body?.type) sent.headers['content-type'] = body.type;
            // Node sends DELETE bodies without framing unless told their length.
            if (body) sent.headers['content-length'] = String(body.data.length);
            const problem = await send(t.url, route.method, sent).then(
              (answer) => {
                if (answer.status < 400) succeeded.add(key);
                return problemWith(route, answer);
              },
              (error: Error) => error.message,
            );
            if (problem)
              throw new Error(`${problem}\n  request: ${JSON.stringify({ ...sent, body: body?.data.toString() })}`);
          }),
          { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
        );
        if (result.failed)
          failures.push(`${key} (seed ${SEED}, path ${result.counterexamplePath}): ${result.errorInstance}`);
        await t.app.flushActivity();
        if (errors.length > 0) failures.push(`${key}: the server logged ${errors.splice(0).join('; ')}`);
      }
      expect(failures).toEqual([]);
      expect(succeeded.size).toBeGreaterThan(routes.length / 2);
    },
  );
});

/** What is wrong with an answer, or undefined. */
function problemWith(route: RouteEntry, answer: Answer): string | undefined {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body.slice(0, 300)}`;
  for (const [name, value] of Object.entries(answer.headers)) {
    // A redirect may carry the client's own URL back, percent-encoded; nothing else may carry what it sent.
    if (name === 'location' && answer.status >= 300 && answer.status < 400) continue;
    if (String(value).includes(ECHO_MARKER)) return `header ${name} echoes what the client sent: ${String(value)}`;
  }
  if (answer.status < 400 || route.method === 'HEAD') return undefined;
  const type = String(answer.headers['content-type'] ?? '');
  const path = route.url;
  if (path === '/update' || /^\/(ota|tasmota|otadrive)\//.test(path)) {
    if (!type.startsWith('text/plain') || answer.body.trim() === '') return `${answer.status} without a text reason`;
    if (!answer.headers['x-ota-reason']) return `${answer.status} without x-ota-reason`;
    return undefined;
  }
  if (/^\/(api|metrics|healthz|static)(\/|$)/.test(path)) {
    let message: unknown;
    try {
      message = (JSON.parse(answer.body) as { message?: unknown }).message;
    } catch {
      return `${answer.status} whose body is not JSON: ${answer.body.slice(0, 200)}`;
    }
    return typeof message === 'string' && message.trim() !== '' ? undefined : `${answer.status} without a message`;
  }
  if (!type.startsWith('text/html') || !/role="alert"[^>]*>\s*[^<\s]/.test(answer.body))
    return `${answer.status} without a page that says why: ${type} ${answer.body.slice(0, 200)}`;
  return undefined;
}
