import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
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

function declaredAccess(config: { access?: Access } | undefined, methods: string[]): Access {
  return config?.access ?? (methods.every((m) => SAFE_METHODS.has(m)) ? 'viewer' : 'admin');
}

/**
 * People and automation: a session cookie (browsers) or `Authorization: Bearer <API token>`. Each route gets the
 * checks for the access it declares when it is registered, so the device routes carry none of this on their hot
 * path; cookie-authenticated changes also need the session's CSRF token.
 */
export function registerAuth(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('principal', undefined);

  const checkCsrf: preHandlerAsyncHookHandler = async (request) => {
    const principal = request.principal;
    if (principal?.kind !== 'session' || SAFE_METHODS.has(request.method)) return;
    // After the body is parsed, so a form's _csrf field can be read; multipart forms send it in the query string.
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
  };

  app.addHook('onRoute', (route) => {
    const access = declaredAccess(route.config, [route.method].flat());
    if (access === 'public' || access === 'device') return;
    const checkAccess: onRequestAsyncHookHandler = async (request, reply) => {
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
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), checkAccess];
    route.preHandler = [...[route.preHandler ?? []].flat(), checkCsrf];
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

/**
 * Who is making a change, for the event log: the user's name for a session, `token:<name>` for an API token (a
 * token and a user may share a name).
 */
export function actorOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return 'anonymous';
  return principal.kind === 'token' ? `token:${principal.name}` : principal.name;
}
