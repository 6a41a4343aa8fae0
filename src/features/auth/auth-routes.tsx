import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { readCookie, SESSION_COOKIE, setSessionCookie } from '../../http/cookies.js';
import { RowId } from '../../http/route-schemas.js';
import { DomainError } from '../../lib/domain-error.js';
import { AccountPage } from '../../ui/pages/account-page.js';
import { LoginPage } from '../../ui/pages/login-page.js';
import { sendPage } from '../../ui/render.js';
import type { AuthService } from './auth-service.js';
import { isRole, roleAllows } from './roles.js';

const SESSION_SECONDS = 7 * 24 * 3600;
type Form = Record<string, string | undefined>;

/** Only paths on this site: `next` must not send people elsewhere after logging in. */
function safeNext(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export function registerAuthRoutes(server: FastifyInstance, auth: AuthService, now: () => number): void {
  const page = { schema: { hide: true } };
  server.get('/login', { ...page, config: { access: 'public' } }, async (request, reply) => {
    const q = request.query as Form;
    return sendPage(request, reply, <LoginPage next={safeNext(q.next)} notice={q.notice} />);
  });

  server.post('/login', { ...page, config: { access: 'public' } }, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const next = safeNext(form.next);
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

  // The same for scripts.
  const api = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['tokens'];
  const Role = Type.Union([Type.Literal('admin'), Type.Literal('uploader'), Type.Literal('viewer')]);
  api.get(
    '/api/v1/tokens',
    { config: { access: 'admin' }, schema: { tags, summary: 'API tokens (never their secrets)' } },
    async () => ({
      tokens: (await auth.listTokens()).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        createdAt: new Date(t.created_at).toISOString(),
        lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
        revoked: t.revoked_at !== null,
      })),
    }),
  );
  api.post(
    '/api/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create a token; the answer is the only time it is shown',
        body: Type.Object({ name: Type.String({ maxLength: 100 }), role: Role }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const { token, row } = await auth.createToken(request.body.name, request.body.role);
      return reply.code(201).send({ id: row.id, name: row.name, role: row.role, token });
    },
  );
  api.delete(
    '/api/v1/tokens/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Revoke a token (effective at once)',
        params: Type.Object({ id: RowId() }),
      },
    },
    async (request, reply) => {
      await auth.revokeToken(request.params.id);
      return reply.code(204).send();
    },
  );
}
