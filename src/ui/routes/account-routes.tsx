import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../../features/auth/auth-service.js';
import { isRole, roleAllows } from '../../features/auth/roles.js';
import { readCookie, SESSION_COOKIE, setSessionCookie } from '../../http/cookies.js';
import { sameSiteRedirect } from '../../http/redirect-target.js';
import { DomainError } from '../../lib/domain-error.js';
import { AccountPage } from '../pages/account-page.js';
import { LoginPage } from '../pages/login-page.js';
import { sendPage } from '../render.js';
import type { Form } from './route-helpers.js';

const SESSION_SECONDS = 7 * 24 * 3600;

/** Logging in and out, and the account page (password, API tokens); scripts use `/api/v1/tokens`. */
export function registerAccountRoutes(server: FastifyInstance, auth: AuthService, now: () => number): void {
  const page = { schema: { hide: true } };
  server.get('/login', { ...page, config: { access: 'public' } }, async (request, reply) => {
    const q = request.query as Form;
    return sendPage(request, reply, <LoginPage next={sameSiteRedirect(q.next)} notice={q.notice} />);
  });

  server.post('/login', { ...page, config: { access: 'public' } }, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const next = sameSiteRedirect(form.next);
    try {
      const { cookie } = await auth.login(form.username ?? '', form.password ?? '', request.ip);
      setSessionCookie(request, reply, cookie, SESSION_SECONDS);
      return reply.code(303).header('location', next).send();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendPage(request, reply, <LoginPage next={next} error={error.message} />, error.status);
    }
  });

  server.post('/logout', { ...page, config: { access: 'viewer' } }, async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    if (cookie) await auth.logout(cookie);
    setSessionCookie(request, reply, '', 0);
    return reply.code(303).header('location', '/login?notice=Logged%20out.').send();
  });

  const account = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { newToken?: string; error?: string; notice?: string },
    status = 200,
  ) => {
    const isAdmin = request.principal !== undefined && roleAllows(request.principal.role, 'admin');
    const tokens = isAdmin ? await auth.listTokens() : undefined;
    return sendPage(request, reply, <AccountPage tokens={tokens} now={now()} {...extra} />, status);
  };
  server.get('/account', { ...page, config: { access: 'viewer' } }, async (request, reply) =>
    account(request, reply, { notice: (request.query as Form).notice }),
  );

  server.post('/account/password', { ...page, config: { access: 'viewer' } }, async (request, reply) => {
    const principal = request.principal!;
    if (principal.kind !== 'session') throw new DomainError('forbidden', 'tokens cannot change passwords');
    try {
      await auth.setPassword(principal.name, ((request.body ?? {}) as Form).password ?? '', principal.sessionHash);
      return account(request, reply, { notice: 'Password changed; your other sessions were logged out.' });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return account(request, reply, { error: error.message }, error.status);
    }
  });

  server.post('/account/tokens', { ...page, config: { access: 'admin' } }, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const role = isRole(form.role) ? form.role : 'viewer';
    const { token } = await auth.createToken(form.name ?? '', role);
    return account(request, reply, { newToken: token }, 201);
  });

  server.post('/account/tokens/:id/revoke', { ...page, config: { access: 'admin' } }, async (request, reply) => {
    await auth.revokeToken(Number((request.params as { id: string }).id));
    return account(request, reply, { notice: 'Token revoked.' });
  });
}
