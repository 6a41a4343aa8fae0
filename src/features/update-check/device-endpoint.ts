import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import proxyAddr from '@fastify/proxy-addr';
import { parseRange } from '../../http/byte-range.js';
import { headerText } from '../../http/header-text.js';
import { ResponseBatch } from '../../http/response-batch.js';
import type { Access } from '../auth/roles.js';
import type { ReleasedImage } from './catalogue-snapshot.js';
import type { Decision } from './decide.js';
import { MalformedRequestError, parseEspRequest, type EspRequest, type UpdateMode } from './esp-request.js';
import type { UpdateCheckService } from './update-check-service.js';

/** The routes this endpoint answers, as the route list (and the security test) sees them. */
export const DEVICE_ROUTES: { method: string; url: string; access: Access }[] = [
  { method: 'GET', url: '/update', access: 'device' },
  { method: 'HEAD', url: '/update', access: 'device' },
  { method: 'POST', url: '/update', access: 'device' },
  { method: 'GET', url: '/ota/:platform/app.bin', access: 'device' },
  { method: 'HEAD', url: '/ota/:platform/app.bin', access: 'device' },
  { method: 'GET', url: '/ota/:platform/filesystem.bin', access: 'device' },
  { method: 'HEAD', url: '/ota/:platform/filesystem.bin', access: 'device' },
];

export interface DeviceEndpointOptions {
  /** Take the client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy: boolean;
  log: { error(object: unknown, message: string): void };
  /** Request latency, as the HTTP metrics record it for every other route. */
  observe(route: string, method: string, statusCode: number, seconds: number): void;
  /** True once the server is shutting down: answers then close their connection. */
  closing(): boolean;
}

/** A request for one of the device routes, or undefined when the request is for someone else. */
interface DeviceRoute {
  route: string;
  /** Stable URLs (`/ota/...`) name the platform in the path and always serve; `/update` is the Arduino protocol. */
  direct?: { platform: string; mode: UpdateMode };
}

const OTA_PATH = /^\/ota\/([^/]+)\/(app|filesystem)\.bin$/;

function matchRoute(method: string | undefined, path: string): DeviceRoute | 'bad-path' | undefined {
  if (path === '/update')
    return method === 'GET' || method === 'HEAD' || method === 'POST' ? { route: path } : undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const match = OTA_PATH.exec(path);
  if (!match) return undefined;
  let platform: string;
  try {
    platform = decodeURIComponent(match[1]!);
  } catch {
    return 'bad-path';
  }
  const kind = match[2] as 'app' | 'filesystem';
  return {
    route: `/ota/:platform/${kind}.bin`,
    direct: { platform, mode: kind === 'app' ? 'sketch' : 'littlefs' },
  };
}

/**
 * The device protocol (protocol.md §5) on plain Node HTTP, in front of the web framework. Device checks are the
 * hot path — a fleet polls all day — and each one here costs a parse, a pure decision and one write; the framework's
 * per-request machinery (hooks, child loggers, reply objects) would cost more than all of that together (see
 * bench/device-checks.bench.ts). Returns false for every request that is not a device route, which the framework
 * then answers.
 *
 * `/update` is the original server's URL, used unchanged by existing devices; `/ota/<platform>/app.bin` and
 * `/ota/<platform>/filesystem.bin` are stable URLs for esp_https_ota and custom clients, which send no device
 * headers (an optional `?mac=` identifies them for allowlists).
 */
export function createDeviceEndpoint(
  service: UpdateCheckService,
  options: DeviceEndpointOptions,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const clientIp = options.trustProxy
    ? (request: IncomingMessage) => proxyAddr(request, () => true)
    : (request: IncomingMessage) => request.socket.remoteAddress;
  const batch = new ResponseBatch(options.log);

  return (request, response) => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const route = matchRoute(request.method, path);
    if (route === undefined) return false;
    const started = performance.now();
    if (options.closing()) response.setHeader('connection', 'close');
    const finish = (status: number) =>
      options.observe(
        route === 'bad-path' ? path : route.route,
        request.method!,
        status,
        (performance.now() - started) / 1000,
      );
    if (route === 'bad-path') {
      const short = text(400, 'bad-request', 'the platform name in the path is not valid percent-encoding');
      batch.add(response, short.status, short.headers, short.body, () => finish(400));
      return true;
    }
    // Everything that reads the request runs inside answer(): whatever it throws becomes a 500, never a crash.
    answer(service, request, response, route, queryStart < 0 ? '' : url.slice(queryStart + 1), clientIp)
      .then((result) => {
        if (result.kind === 'short') {
          batch.add(response, result.status, result.headers, result.body, () => finish(result.status));
        } else if (result.bodyPending) {
          // A download's latency includes sending it.
          response.once('finish', () => finish(response.statusCode));
        } else {
          finish(response.statusCode);
        }
      })
      .catch((error: unknown) => {
        options.log.error({ err: error, url: path }, 'device request failed');
        if (response.headersSent) {
          response.destroy();
          finish(500);
          return;
        }
        const failure = text(500, 'internal', 'the server failed to handle this request');
        batch.add(response, 500, failure.headers, failure.body, () => finish(500));
      });
    return true;
  };
}

/** An answer without an image: written with the others of this event-loop turn. */
interface ShortAnswer {
  kind: 'short';
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** An image answer, already handed to the socket; `bodyPending` while its bytes are still being sent. */
interface ImageAnswer {
  kind: 'image';
  bodyPending: boolean;
}

/** Answers one device request: a short answer to write, or the image already being written. */
async function answer(
  service: UpdateCheckService,
  request: IncomingMessage,
  response: ServerResponse,
  route: DeviceRoute,
  query: string,
  clientIp: (request: IncomingMessage) => string | undefined,
): Promise<ShortAnswer | ImageAnswer> {
  let espRequest: EspRequest;
  try {
    const parsed = parseEspRequest(parseQuery(query), request.headers, route.direct?.platform);
    espRequest = route.direct ? { ...parsed, client: 'direct', mode: route.direct.mode } : parsed;
  } catch (error) {
    if (!(error instanceof MalformedRequestError)) throw error;
    return text(400, 'bad-request', error.message);
  }
  const decision: Decision = await service.check(espRequest, clientIp(request));
  switch (decision.action) {
    case 'serve': {
      const bytes = await service.imageBytes(decision.image);
      const sent = sendImage(request, response, decision.image, decision.reason, bytes, espRequest.platform);
      if (sent > 0) service.served(sent);
      return { kind: 'image', bodyPending: sent > 0 };
    }
    case 'announce-version':
      return {
        kind: 'short',
        status: 200,
        headers: {
          'x-version': headerText(decision.image.version),
          'x-ota-reason': decision.reason,
          'content-length': '0',
        },
      };
    case 'not-modified':
      return { kind: 'short', status: 304, headers: { 'x-ota-reason': decision.reason } };
    case 'refuse': {
      const refusal = text(decision.status, decision.reason, decision.message);
      // Both credential kinds fit in Basic: ESP8266's setAuthorization(token) sends "Basic <token>".
      if (decision.status === 401)
        refusal.headers['www-authenticate'] = 'Basic realm="esp-ota-server", charset="UTF-8"';
      return refusal;
    }
  }
}

/** Errors for devices: a short plain-text reason (the Arduino clients only read the status) and its code. */
function text(status: number, code: string, message: string): ShortAnswer {
  const body = Buffer.from(`${message}\n`);
  return {
    kind: 'short',
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      'x-ota-reason': code,
    },
    body,
  };
}

/** The image with its digests, whole or one byte range; returns the number of body bytes sent. */
function sendImage(
  request: IncomingMessage,
  response: ServerResponse,
  image: ReleasedImage,
  reason: string,
  bytes: Buffer,
  platform: string,
): number {
  const etag = `"${image.sha256}"`;
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, { etag, 'x-ota-reason': 'current' });
    response.end();
    return 0;
  }
  const safeName = `${platform}-${image.version}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'x-MD5': image.md5,
    'x-SHA256': image.sha256,
    'x-version': headerText(image.version),
    'x-ota-reason': reason,
    'content-disposition': `attachment; filename="${safeName}.bin"`,
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
  };
  const range = parseRange(request.headers.range, bytes.length);
  if (range.kind === 'unsatisfiable') {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}`, 'content-length': '0' });
    response.end();
    return 0;
  }
  const body = range.kind === 'range' ? bytes.subarray(range.start, range.end + 1) : bytes;
  if (range.kind === 'range') headers['content-range'] = `bytes ${range.start}-${range.end}/${bytes.length}`;
  headers['content-length'] = String(body.length);
  response.writeHead(range.kind === 'range' ? 206 : 200, headers);
  if (request.method === 'HEAD') {
    response.end();
    return 0;
  }
  response.end(body);
  return body.length;
}
