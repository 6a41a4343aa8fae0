import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RowId } from '../../http/route-schemas.js';
import type { AuthService } from './auth-service.js';

/** API tokens for scripts; people manage theirs on the account page (ui/routes/account-routes.tsx). */
export function registerAuthRoutes(server: FastifyInstance, auth: AuthService): void {
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
