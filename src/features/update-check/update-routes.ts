import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from '../../http/byte-range.js';
import { sendError } from '../../http/error-handler.js';
import type { ReleasedImage } from './catalogue-snapshot.js';
import { MalformedRequestError, parseEspRequest, type EspRequest, type UpdateMode } from './esp-request.js';
import type { UpdateCheckService } from './update-check-service.js';

/**
 * The device protocol (protocol.md §5). `/update` is the original server's URL, used unchanged by existing
 * devices; `/ota/<platform>/app.bin` and `/ota/<platform>/filesystem.bin` are stable URLs for esp_https_ota and
 * custom clients, which send no device headers (an optional `?mac=` identifies them for allowlists).
 */
export function registerUpdateRoutes(app: FastifyInstance, service: UpdateCheckService): void {
  const handle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    direct?: { platform: string; mode: UpdateMode },
  ) => {
    let espRequest: EspRequest;
    try {
      const parsed = parseEspRequest(request.query as Record<string, string>, request.headers, direct?.platform);
      espRequest = direct ? { ...parsed, client: 'direct', mode: direct.mode } : parsed;
    } catch (error) {
      if (error instanceof MalformedRequestError) return sendError(request, reply, 400, 'bad-request', error.message);
      throw error;
    }
    const decision = await service.check(espRequest, request.ip);
    switch (decision.action) {
      case 'serve': {
        const bytes = await service.imageBytes(decision.image);
        const sent = sendImage(request, reply, decision.image, decision.reason, bytes, espRequest.platform);
        if (sent.bytes > 0) service.served(sent.bytes);
        return sent.reply;
      }
      case 'announce-version':
        return reply
          .code(200)
          .header('x-version', decision.image.version)
          .header('x-ota-reason', decision.reason)
          .send('');
      case 'not-modified':
        return reply.code(304).header('x-ota-reason', decision.reason).send();
      case 'refuse':
        // Both credential kinds fit in Basic: ESP8266's setAuthorization(token) sends "Basic <token>".
        if (decision.status === 401) reply.header('www-authenticate', 'Basic realm="esp-ota-server", charset="UTF-8"');
        return sendError(request, reply, decision.status, decision.reason, decision.message);
    }
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/update',
      // No schema: parseEspRequest validates everything a device sends, once.
      schema: { hide: true },
      config: { access: 'device' },
      handler: (req, reply) => handle(req, reply),
    });
  }
  // esp_https_ota clients name no version: they compare the descriptor themselves, so they always get the image
  // (or 304 when they send back its ETag).
  const otaHandler =
    (mode: 'sketch' | 'littlefs') => (request: FastifyRequest<{ Params: { platform: string } }>, reply: FastifyReply) =>
      handle(request, reply, { platform: request.params.platform, mode });
  app.get('/ota/:platform/app.bin', { schema: { hide: true }, config: { access: 'device' } }, otaHandler('sketch'));
  app.get(
    '/ota/:platform/filesystem.bin',
    { schema: { hide: true }, config: { access: 'device' } },
    otaHandler('littlefs'),
  );
}

function sendImage(
  request: FastifyRequest,
  reply: FastifyReply,
  image: ReleasedImage,
  reason: string,
  bytes: Buffer,
  platform: string,
): { bytes: number; reply: FastifyReply } {
  const etag = `"${image.sha256}"`;
  if (request.headers['if-none-match'] === etag) {
    return { bytes: 0, reply: reply.code(304).header('etag', etag).header('x-ota-reason', 'current').send() };
  }
  const safeName = `${platform}-${image.version}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  reply
    .header('content-type', 'application/octet-stream')
    .header('x-MD5', image.md5)
    .header('x-SHA256', image.sha256)
    .header('x-version', image.version)
    .header('x-ota-reason', reason)
    .header('content-disposition', `attachment; filename="${safeName}.bin"`)
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'no-store');
  const range = parseRange(request.headers.range, bytes.length);
  if (range.kind === 'unsatisfiable') {
    return { bytes: 0, reply: reply.code(416).header('content-range', `bytes */${bytes.length}`).send('') };
  }
  const headOnly = request.method === 'HEAD';
  if (range.kind === 'range') {
    const part = bytes.subarray(range.start, range.end + 1);
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${bytes.length}`);
    return { bytes: headOnly ? 0 : part.length, reply: reply.send(part) };
  }
  return { bytes: headOnly ? 0 : bytes.length, reply: reply.code(200).send(bytes) };
}
