import type { FastifyInstance } from 'fastify';

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

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') && !request.url.startsWith('/api/docs')) {
      for (const [name, value] of Object.entries(PAGE_HEADERS)) reply.header(name, value);
    }
    return payload;
  });
}
