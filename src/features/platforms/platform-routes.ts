import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ByteSize } from '../../http/route-schemas.js';
import { allowlistJson, platformJson } from '../api-views.js';
import type { FleetReader } from '../fleet/fleet-reader.js';
import type { PlatformService } from './platform-service.js';
import { actorOf } from '../../http/auth.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const AccessMode = Type.Union([Type.Literal('allowlist'), Type.Literal('open')]);
const PolicyNumbers = Type.Record(Type.String({ maxLength: 40 }), Type.Union([Type.Number(), Type.Boolean()]), {
  description: 'Rollout thresholds to override (README "Rollouts"), e.g. {"failureRatio": 0.05, "minDevices": 5}',
});
const RolloutTemplate = Type.Object(
  {
    stages: Type.Optional(
      Type.Array(Type.Number(), { maxItems: 20, description: 'Whole percentages, increasing, ending at 100' }),
    ),
    canary: Type.Optional(
      Type.Object(
        {
          groups: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
          macs: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10000 })),
        },
        { additionalProperties: false },
      ),
    ),
    policy: Type.Optional(PolicyNumbers),
  },
  { additionalProperties: false },
);
const UpdateWindow = Type.Object(
  {
    from: Type.String({ maxLength: 5, description: 'HH:MM local time, inclusive' }),
    to: Type.String({ maxLength: 5, description: 'HH:MM local time, exclusive (earlier than from: spans midnight)' }),
    timeZone: Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' }),
  },
  { additionalProperties: false },
);
const PlatformBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    chip: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
    accessMode: Type.Optional(AccessMode),
    fsPartitionSize: Type.Optional(Type.Union([ByteSize(), Type.Null()])),
    deviceAuth: Type.Optional(Type.Union([Type.Literal('off'), Type.Literal('basic'), Type.Literal('token')])),
    deviceUser: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    deviceSecret: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    releasePolicy: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('rollout')], {
        description: 'auto: certain uploads are released; manual: kept for a person; rollout: start a rollout',
      }),
    ),
    rolloutTemplate: Type.Optional(Type.Union([RolloutTemplate, Type.Null()])),
    updateWindow: Type.Optional(Type.Union([UpdateWindow, Type.Null()])),
    esp8266Gzip: Type.Optional(
      Type.Union([Type.Literal('off'), Type.Literal('auto'), Type.Literal('on')], {
        description: 'Gzip copies for ESP8266 devices: off, auto (running image built with core ≥ 2.7), on (all)',
      }),
    ),
    minimalPlatform: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
        description: "The platform whose released app is served as this platform's Tasmota -minimal image",
      }),
    ),
    flashMode: Type.Optional(
      Type.Union([Type.Literal('qio'), Type.Literal('qout'), Type.Literal('dio'), Type.Literal('dout'), Type.Null()], {
        description: 'ESP8266: the flash mode the boards run; with trusted keys, images of another mode are refused',
      }),
    ),
  },
  { additionalProperties: false },
);
const PlatformPatch = Type.Partial(PlatformBody, { additionalProperties: false });
const AllowBody = Type.Object(
  {
    mac: Type.String({ maxLength: 32 }),
    label: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export function registerPlatformRoutes(server: FastifyInstance, platforms: PlatformService, reader: FleetReader): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['platforms'];
  app.get(
    '/api/v1/platforms',
    { config: { access: 'viewer' }, schema: { tags, summary: 'List platforms' } },
    async () => {
      const all = await reader.platforms();
      const nameOf = (id: number | null) => all.find((p) => p.id === id)?.name ?? null;
      return { platforms: all.map((p) => platformJson(p, nameOf(p.minimal_platform_id))) };
    },
  );

  app.post(
    '/api/v1/platforms',
    { config: { access: 'admin' }, schema: { tags, summary: 'Create a platform', body: PlatformBody } },
    async (request, reply) => {
      const platform = await platforms.create(request.body, actorOf(request));
      return reply.code(201).send(platformJson(platform, await platforms.minimalName(platform)));
    },
  );

  app.get(
    '/api/v1/platforms/:name',
    { config: { access: 'viewer' }, schema: { tags, summary: 'Get a platform', params: NameParams } },
    async (request) => {
      const platform = await platforms.get(request.params.name);
      return platformJson(platform, await platforms.minimalName(platform));
    },
  );

  app.patch(
    '/api/v1/platforms/:name',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Change a platform', params: NameParams, body: PlatformPatch },
    },
    async (request) => {
      const platform = await platforms.update(request.params.name, request.body, actorOf(request));
      return platformJson(platform, await platforms.minimalName(platform));
    },
  );

  app.delete(
    '/api/v1/platforms/:name',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Delete a platform, its images and allowlist', params: NameParams },
    },
    async (request, reply) => {
      await platforms.delete(request.params.name, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/platforms/:name/allowlist',
    { config: { access: 'viewer' }, schema: { tags, summary: 'List allowed devices', params: NameParams } },
    async (request) => ({
      devices: (await platforms.listAllowed(request.params.name)).map(allowlistJson),
    }),
  );

  app.post(
    '/api/v1/platforms/:name/allowlist',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Allow a device (MAC in any common format)', params: NameParams, body: AllowBody },
    },
    async (request, reply) => {
      const body = request.body;
      const entry = await platforms.allow(request.params.name, body.mac, body.label, actorOf(request));
      return reply.code(201).send(allowlistJson(entry));
    },
  );

  const SecretParams = Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64 }),
    mac: Type.String({ maxLength: 32 }),
  });
  app.put(
    '/api/v1/platforms/:name/allowlist/:mac/secret',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Give one device its own secret (Basic password with its MAC as user, or token); null removes it',
        params: SecretParams,
        body: Type.Object(
          { secret: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      await platforms.setDeviceSecret(request.params.name, request.params.mac, request.body.secret, actorOf(request));
      return reply.code(204).send();
    },
  );

  const MacParams = Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64 }),
    mac: Type.String({ maxLength: 32 }),
  });
  app.delete(
    '/api/v1/platforms/:name/allowlist/:mac',
    { config: { access: 'admin' }, schema: { tags, summary: 'Remove a device from the allowlist', params: MacParams } },
    async (request, reply) => {
      const params = request.params;
      await platforms.disallow(params.name, params.mac, actorOf(request));
      return reply.code(204).send();
    },
  );
}
