import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../../features/auth/auth-service.js';
import { isRole, roleAllows } from '../../features/auth/roles.js';
import { readCookie, SESSION_COOKIE, setSessionCookie } from '../../http/cookies.js';
import { sameSiteRedirect } from '../../http/redirect-target.js';
import { DomainError } from '../../lib/domain-error.js';
import { AccountPage, type TokenForm } from '../pages/account-page.js';
import { LoginPage } from '../pages/login-page.js';
import { sendPage } from '../render.js';
import type { Form } from './route-helpers.js';

const SESSION_SECONDS = 7 * 24 * 3600;
/**
 * A new token travels from its POST to the page that shows it in a cookie only /account reads, cleared on that read:
 * the POST redirects (reloading the page creates nothing), the secret is never in a URL, and any instance can show it.
 */
const NEW_TOKEN_COOKIE = 'esp_ota_new_token';

function setNewTokenCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${NEW_TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/account; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`,
  );
}

function backToAccount(reply: FastifyReply, notice: string): FastifyReply {
  return reply
    .code(303)
    .header('location', `/account?notice=${encodeURIComponent(notice)}`)
    .send();
}

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
      return sendPage(
        request,
        reply,
        <LoginPage next={next} error={error.message} username={form.username} />,
        error.status,
      );
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
    extra: { newToken?: string | undefined; error?: string; notice?: string | undefined; typed?: TokenForm },
    status = 200,
  ) => {
    const isAdmin = request.principal !== undefined && roleAllows(request.principal.role, 'admin');
    const tokens = isAdmin ? await auth.listTokens() : undefined;
    return sendPage(request, reply, <AccountPage tokens={tokens} now={now()} {...extra} />, status);
  };
  server.get('/account', { ...page, config: { access: 'viewer' } }, async (request, reply) => {
    const newToken = readCookie(request, NEW_TOKEN_COOKIE);
    if (newToken !== undefined) setNewTokenCookie(request, reply, '', 0);
    return account(request, reply, { notice: (request.query as Form).notice, newToken: newToken || undefined });
  });

  server.post('/account/password', { ...page, config: { access: 'viewer' } }, async (request, reply) => {
    const principal = request.principal!;
    if (principal.kind !== 'session') throw new DomainError('forbidden', 'tokens cannot change passwords');
    try {
      await auth.setPassword(principal.name, ((request.body ?? {}) as Form).password ?? '', principal.sessionHash);
      return backToAccount(reply, 'Password changed; your other sessions were logged out.');
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return account(request, reply, { error: error.message }, error.status);
    }
  });

  server.post('/account/tokens', { ...page, config: { access: 'admin' } }, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const typed = { name: form.name, role: form.role };
    if (!isRole(form.role)) {
      return account(request, reply, { error: 'choose a role: admin, uploader or viewer', typed }, 400);
    }
    if (!form.name?.trim()) return account(request, reply, { error: 'give the token a name', typed }, 400);
    const { token } = await auth.createToken(form.name, form.role);
    setNewTokenCookie(request, reply, token, 120);
    return backToAccount(reply, `Token ${form.name.trim().slice(0, 100)} created.`);
  });

  server.post('/account/tokens/:id/revoke', { ...page, config: { access: 'admin' } }, async (request, reply) => {
    await auth.revokeToken(Number((request.params as { id: string }).id));
    return backToAccount(reply, 'Token revoked.');
  });
}
