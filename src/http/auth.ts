import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../features/auth/auth-service.js';
import { roleAllows, type Access } from '../features/auth/roles.js';
import { DomainError } from '../lib/domain-error.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; routes that do not say are closed: reads need a viewer, changes an admin. */
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function accessOf(request: FastifyRequest): Access | undefined {
  if (!request.routeOptions.url) return undefined; // no such route: the 404 handler answers, revealing nothing
  return request.routeOptions.config.access ?? (SAFE_METHODS.has(request.method) ? 'viewer' : 'admin');
}

/**
 * People and automation: a session cookie (browsers) or `Authorization: Bearer <API token>`. Every route is checked
 * against the access it declares; cookie-authenticated changes also need the session's CSRF token.
 */
export function registerAuth(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('principal', undefined);

  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request);
    if (access === undefined || access === 'public' || access === 'device') return;
    request.principal = await identify(request, auth);
    if (!request.principal) {
      if (wantsPage(request)) {
        return reply
          .code(303)
          .header('location', `/login?next=${encodeURIComponent(request.url)}`)
          .send();
      }
      reply.header('www-authenticate', 'Bearer realm="esp-ota-server"');
      throw new DomainError('unauthorized', 'log in, or send Authorization: Bearer <API token>');
    }
    if (!roleAllows(request.principal.role, access)) {
      throw new DomainError(
        'forbidden',
        `this needs the ${access} role; ${request.principal.name} is ${request.principal.role}`,
      );
    }
  });

  // After the body is parsed, so a form's _csrf field can be read; multipart forms send it in the query string.
  app.addHook('preHandler', async (request) => {
    const principal = request.principal;
    if (principal?.kind !== 'session' || SAFE_METHODS.has(request.method)) return;
    const body = request.body as Record<string, unknown> | undefined;
    const sent =
      header(request, 'x-csrf-token') ??
      (typeof body?._csrf === 'string' ? body._csrf : undefined) ??
      (request.query as Record<string, string | undefined>)._csrf;
    if (!sent || !principal.csrfToken || !equal(sent, principal.csrfToken)) {
      throw new DomainError(
        'csrf-failed',
        'the form is stale or did not come from this site; reload the page and try again',
      );
    }
  });
}

async function identify(request: FastifyRequest, auth: AuthService): Promise<Principal | undefined> {
  const authorization = header(request, 'authorization');
  if (authorization?.startsWith('Bearer ')) return auth.token(authorization.slice(7).trim());
  const cookie = readCookie(request, SESSION_COOKIE);
  return cookie ? auth.session(cookie) : undefined;
}

function wantsPage(request: FastifyRequest): boolean {
  return (
    request.method === 'GET' && !request.url.startsWith('/api/') && (request.headers.accept ?? '').includes('text/html')
  );
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
