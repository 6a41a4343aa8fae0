import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    ...espWebToolsModules(),
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

/**
 * ESP Web Tools' browser build (the npm package's `dist/web`): `install-button.js` and the chunks it imports on
 * demand (the dialog, esptool's stub flashers), served under /static/esp-web-tools/ so they load from this server
 * (`script-src 'self'`) and resolve each other by relative URL.
 */
function espWebToolsModules(): Record<string, { type: string; path: string }> {
  const folder = dirname(require.resolve('esp-web-tools/dist/web/install-button.js'));
  const modules: Record<string, { type: string; path: string }> = {};
  for (const file of readdirSync(folder)) {
    if (file.endsWith('.js')) {
      modules[`esp-web-tools/${file}`] = { type: 'text/javascript; charset=utf-8', path: join(folder, file) };
    }
  }
  return modules;
}
