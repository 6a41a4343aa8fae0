import type { FastifyInstance, onSendHookHandler } from 'fastify';

/**
 * Headers for the pages: no inline scripts or styles (everything comes from /static), no framing, no MIME sniffing,
 * no referrer to other sites. Swagger UI (/api/docs) sets its own policy.
 */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

/** Attached to each route but the device routes, whose answers are firmware and one-line reasons. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const addHeaders: onSendHookHandler = (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') && !request.url.startsWith('/api/docs')) {
      for (const [name, value] of Object.entries(PAGE_HEADERS)) reply.header(name, value);
    }
    done(null, payload);
  };
  app.addHook('onRoute', (route) => {
    if (route.config?.access === 'device') return;
    route.onSend = [...[route.onSend ?? []].flat(), addHeaders];
  });
}
