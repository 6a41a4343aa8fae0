import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../lib/domain-error.js';

/** Device routes get a short plain-text reason (the Arduino clients only read the status). */
function isDeviceRoute(path: string): boolean {
  return path === '/update' || path.startsWith('/ota/');
}

/** Browser pages: everything that is not the API, a device route, metrics or an asset. */
function isPageRoute(path: string): boolean {
  return !/^\/(api|update|ota|metrics|healthz|static)(\/|$)/.test(path);
}

export type HtmlErrorRenderer = (status: number, message: string) => string;
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
  if (html && isPageRoute(path)) return reply.type('text/html; charset=utf-8').send(html(status, message));
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
 * One mapping from errors to answers: domain errors carry their status; framework errors for bad input (schema,
 * JSON, media type, body size) are 4xx with their own message; anything else is a 500 without internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DomainError)
      return sendError(request, reply, error.status, error.code, error.message, error.details);
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
