import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import { DomainError, ERROR_STATUS } from '../lib/domain-error.js';
import { storageFailure } from '../lib/storage-errors.js';

/** The answer when the database cannot be used now; device routes outside the framework say the same. */
export const DATABASE_UNAVAILABLE = {
  status: ERROR_STATUS['database-unavailable'],
  code: 'database-unavailable',
  message: 'the database is not available at the moment; nothing was changed, try again shortly',
  retryAfterSeconds: '5',
} as const;

/** Device routes get a short plain-text reason (the Arduino clients only read the status). */
function isDeviceRoute(path: string): boolean {
  return path === '/update' || path.startsWith('/ota/');
}

/** Browser pages: everything that is not the API, a device route, metrics or an asset. */
function isPageRoute(path: string): boolean {
  return !/^\/(api|update|ota|metrics|healthz|static)(\/|$)/.test(path);
}

/** Draws an error page; it gets the request so the page keeps the viewer's header (account, log out). */
export type HtmlErrorRenderer = (status: number, message: string, request: FastifyRequest) => string;
const htmlRenderers = new WeakMap<FastifyInstance, HtmlErrorRenderer>();

/** Lets the UI render its errors as pages; registered by the composition root. */
export function useHtmlErrors(app: FastifyInstance, renderer: HtmlErrorRenderer): void {
  htmlRenderers.set(app, renderer);
}

/** One answer shape per audience: plain text for devices, a page for browsers, JSON for the API. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown,
) {
  const path = request.url.split('?', 1)[0] ?? '';
  reply.code(status).header('x-ota-reason', code);
  if (isDeviceRoute(path)) return reply.type('text/plain; charset=utf-8').send(`${message}\n`);
  const html = htmlRenderers.get(request.server);
  if (html && isPageRoute(path)) return reply.type('text/html; charset=utf-8').send(html(status, message, request));
  return reply.send({ error: code, message, ...(details !== undefined ? { details } : {}) });
}

/**
 * Requests the router refuses before any route sees them (a path that is not valid percent-encoded UTF-8, a path
 * parameter over the length limit): the same answers as every other client mistake, not the framework's own shape.
 */
export function answerRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the path is not valid percent-encoded UTF-8'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a part of the path is too long'
        : 'the request cannot be routed';
  return sendError(request, reply, 400, 'bad-request', message);
}

/**
 * One mapping from errors to answers: domain errors carry their status; full or read-only storage is a 507/503; a
 * database out of reach or busy is a 503; framework errors for bad input (schema, JSON, media type, body size) are
 * 4xx with their own message; anything else is a 500 without internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const domain = error instanceof DomainError ? error : storageFailure(error, 'nothing was changed');
    if (domain) {
      // Full or read-only storage is for the operator to fix: the log says why.
      if (domain.code === 'storage-full' || domain.code === 'storage-unavailable')
        request.log.error({ err: domain.cause ?? domain }, domain.message);
      return sendError(request, reply, domain.status, domain.code, domain.message, domain.details);
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      const { status, code, message, retryAfterSeconds } = DATABASE_UNAVAILABLE;
      return sendError(request, reply.header('retry-after', retryAfterSeconds), status, code, message);
    }
    if (error.validation) return sendError(request, reply, 400, 'bad-request', error.message);
    const status = error.statusCode ?? 500;
    if (status === 413)
      return sendError(request, reply, 413, 'upload-too-large', 'the request body is larger than allowed');
    if (status === 415) return sendError(request, reply, 415, 'unsupported-media-type', error.message);
    if (status >= 400 && status < 500) return sendError(request, reply, status, 'bad-request', error.message);
    request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, 500, 'internal', 'the server failed to handle this request; see its log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 404, 'not-found', `no route for ${request.method} ${request.url.split('?', 1)[0]}`),
  );
}
