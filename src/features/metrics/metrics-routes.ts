import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import type { Metrics } from './metrics.js';

/** `GET /metrics` in Prometheus text format; with a token configured, only `Authorization: Bearer <token>` sees it. */
export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics, token: string): void {
  // A plain callback: cheaper than an async hook on every device check.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.request(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get('/metrics', { schema: { hide: true }, config: { access: 'public' } }, async (request, reply) => {
    if (token && !bearerMatches(request.headers.authorization, token)) {
      return sendError(
        request,
        reply.header('www-authenticate', 'Bearer'),
        401,
        'unauthorized',
        'metrics need the configured bearer token',
      );
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
