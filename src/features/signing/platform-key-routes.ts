import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../http/auth.js';
import { embeddedKeyJson, platformKeyJson } from './signing-views.js';
import type { PlatformKeyService } from './platform-key-service.js';

const Name = Type.String({ minLength: 1, maxLength: 64 });
const RowId = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 });

/** REST for a platform's trusted public keys (issue 17, docs/security.md). */
export function registerPlatformKeyRoutes(server: FastifyInstance, keys: PlatformKeyService): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['signing'];

  app.get(
    '/api/v1/platforms/:name/keys',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: "The public keys the platform's boards trust", params: Type.Object({ name: Name }) },
    },
    async (request) => ({ keys: (await keys.list(request.params.name)).map(platformKeyJson) }),
  );

  app.post(
    '/api/v1/platforms/:name/keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Trust a public key (PEM); from then on uploads must be signed by one of the platform keys',
        params: Type.Object({ name: Name }),
        body: Type.Object(
          {
            pem: Type.String({ minLength: 1, maxLength: 16384, description: 'PUBLIC KEY or RSA PUBLIC KEY PEM' }),
            label: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { pem, label } = request.body;
      const row = await keys.add(request.params.name, pem, label, actorOf(request));
      return reply.code(201).send(platformKeyJson(row));
    },
  );

  app.get(
    '/api/v1/platforms/:name/images/:id/embedded-keys',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Public keys compiled into an image (a sketch built for signing carries its key): offered to adopt',
        params: Type.Object({ name: Name, id: RowId }),
      },
    },
    async (request) => ({
      keys: (await keys.embeddedKeys(request.params.name, request.params.id)).map(embeddedKeyJson),
    }),
  );

  app.post(
    '/api/v1/platforms/:name/keys/adopt',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Trust the public key an uploaded image carries',
        params: Type.Object({ name: Name }),
        body: Type.Object(
          {
            imageId: RowId,
            digest: Type.Optional(
              Type.String({ pattern: '^[0-9a-fA-F]{8,64}$', description: 'Which key, when the image carries several' }),
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { imageId, digest } = request.body;
      const row = await keys.adopt(request.params.name, imageId, digest, actorOf(request));
      return reply.code(201).send(platformKeyJson(row));
    },
  );

  app.delete(
    '/api/v1/platforms/:name/keys/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Stop trusting a key', params: Type.Object({ name: Name, id: RowId }) },
    },
    async (request, reply) => {
      await keys.remove(request.params.name, request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );
}
