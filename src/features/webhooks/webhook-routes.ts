import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../http/auth.js';
import type { LastDelivery } from './webhook-dispatcher.js';
import type { WebhookService } from './webhook-service.js';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const AddBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'http:// or https:// endpoint' }),
    secret: Type.Optional(
      Type.String({ minLength: 16, maxLength: 200, description: 'signs each body; default: a random one' }),
    ),
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 50,
        description: 'event types it wants (upload, release, rollout-started, rollout-updated, …); none: all',
      }),
    ),
  },
  { additionalProperties: false },
);
const DeliveriesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) });

/** Webhooks are server-wide and their URLs may be secrets: only admins read or change them. */
export function registerWebhookRoutes(
  server: FastifyInstance,
  webhooks: WebhookService,
  lastDelivery: (id: number) => LastDelivery | undefined,
): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['webhooks'];

  app.get(
    '/api/v1/webhooks',
    { config: { access: 'admin' }, schema: { tags, summary: 'Webhooks, with their last delivery' } },
    async () => ({
      webhooks: (await webhooks.list()).map((hook) => ({ ...hook, lastDelivery: lastDelivery(hook.id) ?? null })),
    }),
  );

  app.post(
    '/api/v1/webhooks',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Add a webhook (its secret is returned this once)', body: AddBody },
    },
    async (request, reply) => reply.code(201).send(await webhooks.add(request.body, actorOf(request))),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    { config: { access: 'admin' }, schema: { tags, summary: 'Remove a webhook', params: IdParams } },
    async (request, reply) => {
      await webhooks.remove(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "A webhook's delivery log, newest first",
        params: IdParams,
        querystring: DeliveriesQuery,
      },
    },
    async (request) => ({ deliveries: await webhooks.deliveries(request.params.id, request.query.limit ?? 100) }),
  );
}
