import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { pipeline } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import { isDatabaseUnavailable } from '../../db/database-errors.js';
import { DATABASE_UNAVAILABLE } from '../../http/error-handler.js';
import { headerText } from '../../http/header-text.js';
import { ResponseBatch } from '../../http/response-batch.js';
import type { ProxyTrust } from '../../lib/trusted-proxies.js';
import type { Access } from '../auth/roles.js';
import type { ReleasedImage } from './catalogue-snapshot.js';
import { minimalView, parseTasmotaFile, sendsGzip, startsTwoStep, type TasmotaFile } from './client-views.js';
import { GzipCopyError, type GzipCopy } from './gzip-copies.js';
import { MalformedRequestError, parseEspRequest, type EspRequest, type UpdateMode } from './esp-request.js';
import { planImageDelivery, type ImageDelivery } from './image-delivery.js';
import { esp32FotaManifest, esphomeManifest } from './client-manifests.js';
import { clientLinks, clientRequest, type ClientRoute, type ClientRouteKind } from './client-requests.js';
import type { DeviceCheck, UpdateCheckService } from './update-check-service.js';

/** Route templates of the manifest clients (never the path: metric labels must come from a closed set). */
const CLIENT_ROUTES = [
  '/ota/:platform/manifest.json',
  '/ota/:platform/d/:key/manifest.json',
  '/ota/:platform/d/:key/firmware.bin',
  '/ota/:platform/esp32fota.json',
] as const;

/** The routes this endpoint answers, as the route list (and the security test) sees them. */
export const DEVICE_ROUTES: { method: string; url: string; access: Access }[] = [
  { method: 'GET', url: '/update', access: 'device' },
  { method: 'HEAD', url: '/update', access: 'device' },
  { method: 'POST', url: '/update', access: 'device' },
  { method: 'GET', url: '/ota/:platform/app.bin', access: 'device' },
  { method: 'HEAD', url: '/ota/:platform/app.bin', access: 'device' },
  { method: 'GET', url: '/ota/:platform/filesystem.bin', access: 'device' },
  { method: 'HEAD', url: '/ota/:platform/filesystem.bin', access: 'device' },
  ...CLIENT_ROUTES.flatMap((url) => ['GET', 'HEAD'].map((method) => ({ method, url, access: 'device' as const }))),
  { method: 'GET', url: '/tasmota/:platform/:file', access: 'device' },
  { method: 'HEAD', url: '/tasmota/:platform/:file', access: 'device' },
  { method: 'GET', url: '/otadrive/:platform/update', access: 'device' },
  { method: 'HEAD', url: '/otadrive/:platform/update', access: 'device' },
];

export interface DeviceEndpointOptions {
  /** Take the client address from X-Forwarded-For through these trusted proxies (none when undefined). */
  trustProxy: ProxyTrust | undefined;
  log: { error(object: unknown, message: string): void };
  /** Request latency, as the HTTP metrics record it for every other route. */
  observe(route: string, method: string, statusCode: number, seconds: number): void;
  /** True once the server is shutting down: answers then close their connection. */
  closing(): boolean;
  /**
   * Device requests in progress at once (from the request to its last byte sent) beyond which the next one is
   * answered 503 at once: a fleet back after a power cut then gets a quick "later" instead of a stall. 0: no limit.
   */
  maxRequests?: number;
  /** Called for each request turned away by `maxRequests` (a metric). */
  busy?(): void;
  /**
   * The address boards reach this server at (`publicUrl`): esp32FOTA's manifest needs absolute image URLs, and
   * ESPHome's a link to the platform. Without it, the request's Host header (checked to be a host name) is used.
   */
  publicUrl?: string | undefined;
  /**
   * Image bodies are sent by the reverse proxy in front: the answer carries the headers and
   * `X-Accel-Redirect: <offloadPrefix><2 hex>/<sha256>` instead of the bytes (blobs as files only).
   */
  offloadPrefix?: string;
}

/** Seconds a device turned away as busy is asked to wait; the Arduino clients simply poll again later. */
const BUSY_RETRY_AFTER_S = 10;

/** A request for one of the device routes, or undefined when the request is for someone else. */
interface DeviceRoute {
  route: string;
  /** Stable URLs (`/ota/...`) name the platform in the path and always serve; `/update` is the Arduino protocol. */
  direct?: { platform: string; mode: UpdateMode };
  /** The routes of clients with manifests (protocol.md §6.1, §6.2): ESPHome's manifest and image, esp32FOTA's. */
  client?: ClientRoute;
  /** Tasmota's `OtaUrl` (`/tasmota/<platform>/<file>`): the Arduino protocol, the file name says which image. */
  tasmota?: { platform: string; file: TasmotaFile };
  /** The OTAdrive-style device API (`/otadrive/<platform>/update?k=&v=&s=`): the Arduino protocol in ranges. */
  otadrive?: { platform: string };
}

const OTA_PATH = /^\/ota\/([^/]+)\/(app|filesystem)\.bin$/;
const CLIENT_PATH = /^\/ota\/([^/]+)\/(?:d\/([^/]+)\/(manifest\.json|firmware\.bin)|(manifest\.json|esp32fota\.json))$/;

function clientRoute(path: string): DeviceRoute | BadPath | undefined {
  const match = CLIENT_PATH.exec(path);
  if (!match) return undefined;
  const key = match[2];
  const file = (match[3] ?? match[4])!;
  const kind: ClientRouteKind =
    file === 'esp32fota.json' ? 'esp32fota-manifest' : file === 'firmware.bin' ? 'esphome-image' : 'esphome-manifest';
  const route = key === undefined ? `/ota/:platform/${file}` : `/ota/:platform/d/:key/${file}`;
  let platform: string;
  try {
    platform = decodeURIComponent(match[1]!);
  } catch {
    return { badPath: true, route };
  }
  return { route, client: { kind, platform, key } };
}
const TASMOTA_PATH = /^\/tasmota\/([^/]+)\/([^/]+)$/;
const OTADRIVE_PATH = /^\/otadrive\/([^/]+)\/update$/;

/** A stable URL whose platform name is not valid percent-encoding: answered 400, counted under its route. */
interface BadPath {
  badPath: true;
  route: string;
}

function matchRoute(method: string | undefined, path: string): DeviceRoute | BadPath | undefined {
  if (path === '/update')
    return method === 'GET' || method === 'HEAD' || method === 'POST' ? { route: path } : undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const match = OTA_PATH.exec(path);
  if (!match) return clientRoute(path) ?? otherClientRoute(path);
  const kind = match[2] as 'app' | 'filesystem';
  // The route template, never the path: metric labels must come from a closed set.
  const route = `/ota/:platform/${kind}.bin`;
  let platform: string;
  try {
    platform = decodeURIComponent(match[1]!);
  } catch {
    return { badPath: true, route };
  }
  return { route, direct: { platform, mode: kind === 'app' ? 'sketch' : 'littlefs' } };
}

/** The Tasmota and OTAdrive-style routes (docs/clients.md), checked only when the Arduino routes did not match. */
function otherClientRoute(path: string): DeviceRoute | BadPath | undefined {
  const tasmota = TASMOTA_PATH.exec(path);
  if (tasmota) {
    const route = '/tasmota/:platform/:file';
    const platform = decodedSegment(tasmota[1]!);
    const file = parseTasmotaFile(tasmota[2]!);
    if (platform === undefined || file === undefined) return { badPath: true, route };
    return { route, tasmota: { platform, file } };
  }
  const otadrive = OTADRIVE_PATH.exec(path);
  if (otadrive) {
    const route = '/otadrive/:platform/update';
    const platform = decodedSegment(otadrive[1]!);
    return platform === undefined ? { badPath: true, route } : { route, otadrive: { platform } };
  }
  return undefined;
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
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
  const trust = options.trustProxy;
  const clientIp = trust
    ? (request: IncomingMessage) => proxyAddr(request, trust)
    : (request: IncomingMessage) => request.socket.remoteAddress;
  const batch = new ResponseBatch(options.log);
  const maxRequests = options.maxRequests ?? 0;
  let inProgress = 0;

  return (request, response) => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const route = matchRoute(request.method, path);
    if (route === undefined) return false;
    const started = performance.now();
    if (options.closing()) response.setHeader('connection', 'close');
    const finish = (status: number) =>
      options.observe(route.route, request.method!, status, (performance.now() - started) / 1000);
    if (maxRequests > 0) {
      if (inProgress >= maxRequests) {
        options.busy?.();
        const busy = text(503, 'busy', 'the server is busy; try again later');
        busy.headers['retry-after'] = String(BUSY_RETRY_AFTER_S);
        batch.add(response, busy.status, busy.headers, busy.body, () => finish(503));
        return true;
      }
      // Until its last byte is sent or its connection is gone: 'close' follows 'finish', and comes alone on an abort.
      inProgress++;
      response.once('close', () => inProgress--);
    }
    if ('badPath' in route) {
      const short = text(
        400,
        'bad-request',
        route.route === '/tasmota/:platform/:file'
          ? 'the platform name is not valid percent-encoding, or the file name is not letters, digits, ".", "-", "_"'
          : 'the platform name in the path is not valid percent-encoding',
      );
      batch.add(response, short.status, short.headers, short.body, () => finish(400));
      return true;
    }
    // Everything that reads the request runs inside answer(): whatever it throws becomes a 500, never a crash.
    answer(
      service,
      request,
      response,
      route,
      queryStart < 0 ? '' : url.slice(queryStart + 1),
      clientIp,
      options.log,
      options.offloadPrefix,
      options.publicUrl,
    )
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
        const failure = isDatabaseUnavailable(error)
          ? text(DATABASE_UNAVAILABLE.status, DATABASE_UNAVAILABLE.code, DATABASE_UNAVAILABLE.message)
          : text(500, 'internal', 'the server failed to handle this request');
        batch.add(response, failure.status, failure.headers, failure.body, () => finish(failure.status));
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
  log: DeviceEndpointOptions['log'],
  offloadPrefix: string | undefined,
  publicUrl: string | undefined,
): Promise<ShortAnswer | ImageAnswer> {
  let espRequest: EspRequest;
  const queryFields = parseQuery(query);
  try {
    if (route.otadrive) {
      // OTAdrive's product key `k` is the platform's device token, `v` the running version; the serial `s` is not
      // used (the MAC comes in the x-ESP*-STA-MAC header like on the Arduino route).
      const { k, v } = queryFields;
      espRequest = parseEspRequest({ ver: v, token: k }, request.headers, route.otadrive.platform);
    } else if (route.client) {
      const parsed = parseEspRequest(queryFields, request.headers, route.client.platform);
      const resolved = await clientRequest(service, route.client, parsed, queryFields);
      if ('status' in resolved) return text(resolved.status, resolved.reason, resolved.message);
      espRequest = resolved;
    } else {
      const pathPlatform = route.direct?.platform ?? route.tasmota?.platform;
      const parsed = parseEspRequest(queryFields, request.headers, pathPlatform);
      espRequest = route.direct ? { ...parsed, client: 'direct', mode: route.direct.mode } : parsed;
    }
  } catch (error) {
    if (!(error instanceof MalformedRequestError)) throw error;
    return text(400, 'bad-request', error.message);
  }
  const tasmota = route.tasmota?.file;
  const check = await service.check(espRequest, clientIp(request), tasmota?.minimal ? minimalView : undefined);
  const { decision } = check;
  if (route.client && route.client.kind !== 'esphome-image') {
    const links = clientLinks(route.client, espRequest, queryFields, request, publicUrl);
    if (typeof links === 'string') return text(400, 'bad-request', links);
    const manifest =
      route.client.kind === 'esp32fota-manifest'
        ? esp32FotaManifest(decision, check.platform?.name ?? espRequest.platform, links.absoluteImageUrl!)
        : esphomeManifest(decision, espRequest, check.platform?.name ?? espRequest.platform, links);
    if (manifest.kind === 'status') {
      service.answered(check, manifest.status);
      if (manifest.status === 304) return { kind: 'short', status: 304, headers: { 'x-ota-reason': manifest.reason } };
      return refused(manifest.status, manifest.reason, manifest.message);
    }
    service.answered(check, 200);
    return {
      kind: 'short',
      status: 200,
      headers: {
        'content-type': 'application/json',
        'content-length': String(manifest.body.length),
        'cache-control': 'no-store',
        'x-ota-reason': decision.reason,
      },
      body: manifest.body,
    };
  }
  if (tasmota && decision.action === 'refuse' && decision.image && startsTwoStep(check.platform, decision.reason)) {
    // Answered as a file host would: the image's own headers, so the client's size or flash check fails (−100,
    // −107) and Tasmota asks for the `-minimal` name next. The device installs nothing; recorded as the refusal.
    const sent = await sendImage(service, request, response, decision.image, decision.reason, espRequest.platform, {
      log,
      offloadPrefix: undefined,
      gzip: undefined,
    });
    service.answered(check, 200);
    if (sent.bodyBytes > 0) service.served(sent.bodyBytes);
    return { kind: 'image', bodyPending: sent.bodyBytes > 0 };
  }
  switch (decision.action) {
    case 'serve': {
      let sent: SentImage;
      try {
        const gzip = await gzipFor(service, route, check.platform, espRequest, decision.image, log);
        sent = await sendImage(service, request, response, decision.image, decision.reason, espRequest.platform, {
          log,
          offloadPrefix,
          gzip,
        });
      } catch (error) {
        service.answered(check, 500); // the caller answers 500 (or cuts the connection)
        throw error;
      }
      service.answered(check, sent.delivery.status, sent.delivery);
      if (sent.bodyBytes > 0) service.served(sent.bodyBytes);
      return { kind: 'image', bodyPending: sent.bodyBytes > 0 };
    }
    case 'announce-version':
      service.answered(check, 200);
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
      service.answered(check, 304);
      return { kind: 'short', status: 304, headers: { 'x-ota-reason': decision.reason } };
    case 'refuse': {
      service.answered(check, decision.status);
      return refused(decision.status, decision.reason, decision.message);
    }
  }
}

/**
 * The gzip copy to send instead of the image, if any: on the Arduino route when the platform's setting and the
 * device allow it (`sendsGzip`), on Tasmota's `.gz` names whenever the image can be compressed. A copy that cannot be
 * made or does not check out is logged and the image itself is sent: the device still gets its update.
 */
async function gzipFor(
  service: UpdateCheckService,
  route: DeviceRoute,
  platform: DeviceCheck['platform'],
  request: EspRequest,
  image: ReleasedImage,
  log: DeviceEndpointOptions['log'],
): Promise<GzipCopy | undefined> {
  const wanted = route.tasmota
    ? route.tasmota.file.gzip && image.gzippable === true && request.family !== 'esp32'
    : !route.direct &&
      !route.otadrive &&
      !route.client &&
      platform !== undefined &&
      sendsGzip(platform, request, image);
  if (!wanted) return undefined;
  try {
    return await service.gzipCopy(image);
  } catch (error) {
    if (!(error instanceof GzipCopyError)) throw error;
    log.error({ err: error, image: image.sha256 }, 'no gzip copy; sending the image itself');
    return undefined;
  }
}

/** Errors for devices: a short plain-text reason (the Arduino clients only read the status) and its code. */
/** A refusal of the decision; a 401 names the scheme to answer with. */
function refused(status: number, code: string, message: string): ShortAnswer {
  const refusal = text(status, code, message);
  // Both credential kinds fit in Basic: ESP8266's setAuthorization(token) sends "Basic <token>".
  if (status === 401) refusal.headers['www-authenticate'] = 'Basic realm="esp-ota-server", charset="UTF-8"';
  return refusal;
}

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

/** How an offered image was answered, and how many body bytes are on their way. */
interface SentImage {
  delivery: ImageDelivery;
  bodyBytes: number;
}

/**
 * The image with its digests, whole or one byte range. Resolves once the headers are written. Images the cache holds go out in one write from the shared buffer; larger ones are streamed
 * from storage a chunk at a time, so concurrent downloads never hold a copy each.
 */
async function sendImage(
  service: UpdateCheckService,
  request: IncomingMessage,
  response: ServerResponse,
  image: ReleasedImage,
  reason: string,
  platform: string,
  {
    log,
    offloadPrefix,
    gzip,
  }: { log: DeviceEndpointOptions['log']; offloadPrefix: string | undefined; gzip: GzipCopy | undefined },
): Promise<SentImage> {
  // The bytes on the wire: the image, or its gzip copy, whose size and digests the client checks instead.
  const body = gzip ?? image;
  const etag = `"${body.sha256}"`;
  const delivery = planImageDelivery(request.method, request.headers, body);
  if (delivery.status === 304) {
    response.writeHead(304, { etag, 'x-ota-reason': 'current' });
    response.end();
    return { delivery, bodyBytes: 0 };
  }
  const safeName = `${platform}-${image.version}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'x-MD5': body.md5,
    'x-SHA256': body.sha256,
    'x-version': headerText(image.version),
    'x-ota-reason': reason,
    'content-disposition': `attachment; filename="${safeName}.bin${gzip ? '.gz' : ''}"`,
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
  };
  if (delivery.status === 416) {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${body.size}`, 'content-length': '0' });
    response.end();
    return { delivery, bodyBytes: 0 };
  }
  if (offloadPrefix && delivery.body && !gzip) {
    // nginx sends the file (and answers a Range itself, from the device's own header); it keeps these headers and
    // sets Content-Length from the file. Counted as served, as if the bytes had gone out from here.
    response.writeHead(200, {
      ...headers,
      'x-accel-redirect': `${offloadPrefix}${image.sha256.slice(0, 2)}/${image.sha256}`,
    });
    response.end();
    return { delivery, bodyBytes: delivery.end - delivery.start + 1 };
  }
  const { start, end } = delivery;
  if (delivery.status === 206) headers['content-range'] = `bytes ${start}-${end}/${body.size}`;
  headers['content-length'] = String(end - start + 1);
  if (!delivery.body) {
    response.writeHead(delivery.status, headers);
    response.end();
    return { delivery, bodyBytes: 0 };
  }
  const cached = gzip ? gzip.bytes : await service.imageBytes(image);
  if (cached) {
    response.writeHead(delivery.status, headers);
    response.end(delivery.status === 206 ? cached.subarray(start, end + 1) : cached);
    return { delivery, bodyBytes: end - start + 1 };
  }
  const source = await service.imageStream(image, start, end);
  response.writeHead(delivery.status, headers);
  pipeline(source, response, (error) => {
    // A device that hangs up early (esp_https_ota may, after reading the header) is not a failure of ours.
    if (error && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE')
      log.error({ err: error, image: image.sha256 }, 'streaming an image failed');
  });
  return { delivery, bodyBytes: end - start + 1 };
}
