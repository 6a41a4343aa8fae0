import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/** The UI's assets (stylesheet, scripts, icon), read once and served from memory with an ETag; nothing comes from a CDN. */
export function registerStaticRoutes(app: FastifyInstance): void {
  const assets: Record<string, { type: string; path: string }> = {
    'app.css': { type: 'text/css; charset=utf-8', path: new URL('./static/app.css', import.meta.url).pathname },
    'app.js': { type: 'text/javascript; charset=utf-8', path: new URL('./static/app.js', import.meta.url).pathname },
    'page-tools.js': {
      type: 'text/javascript; charset=utf-8',
      path: new URL('./static/page-tools.js', import.meta.url).pathname,
    },
    'favicon.svg': { type: 'image/svg+xml', path: new URL('./static/favicon.svg', import.meta.url).pathname },
    'htmx.min.js': { type: 'text/javascript; charset=utf-8', path: require.resolve('htmx.org/dist/htmx.min.js') },
  };
  for (const [name, asset] of Object.entries(assets)) {
    const body = readFileSync(asset.path);
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    app.get(`/static/${name}`, { schema: { hide: true }, config: { access: 'public' } }, async (request, reply) => {
      reply.header('etag', etag).header('cache-control', 'public, max-age=3600');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(asset.type).send(body);
    });
  }
}
