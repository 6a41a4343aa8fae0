import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../http/auth.js';
import { formatMac } from '../../lib/mac.js';
import type { DevicePin, DevicePinService } from './device-pin-service.js';
import { MAX_MACS } from './group-input.js';
import type { GroupDetail, GroupService, GroupSummary } from './group-service.js';

const PlatformName = Type.String({ minLength: 1, maxLength: 64 });
const GroupName = Type.String({ minLength: 1, maxLength: 64 });
const Version = Type.String({ minLength: 1, maxLength: 128 });
const Mac = Type.String({ maxLength: 32 });
const Macs = Type.Array(Mac, { maxItems: MAX_MACS });

const PlatformParams = Type.Object({ name: PlatformName });
const GroupParams = Type.Object({ name: PlatformName, group: GroupName });
const MacParams = Type.Object({ mac: Mac });
const GroupChanges = {
  excluded: Type.Optional(Type.Boolean({ description: 'rollouts never move its devices' })),
  pinnedVersion: Type.Optional(
    Type.Union([Version, Type.Null()], { description: 'an app version its devices are pinned to; null unpins' }),
  ),
};
const CreateBody = Type.Object({ name: GroupName, ...GroupChanges }, { additionalProperties: false });
const PatchBody = Type.Object({ name: Type.Optional(GroupName), ...GroupChanges }, { additionalProperties: false });
const AddBody = Type.Object(
  {
    macs: Type.Optional(Macs),
    allowlistLabel: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'also every allowlisted MAC whose label contains it' }),
    ),
  },
  { additionalProperties: false },
);
const RemoveBody = Type.Object({ macs: Macs }, { additionalProperties: false });
const PinBody = Type.Object(
  {
    version: Version,
    platform: Type.Optional(
      Type.String({ ...PlatformName, description: 'default: the platform the device last checked in with' }),
    ),
  },
  { additionalProperties: false },
);
const UnpinQuery = Type.Object({ platform: Type.Optional(PlatformName) });

/**
 * Groups of a platform's devices (canary, excluded, pinned) and pins of single devices. Viewers read; uploaders and
 * admins change them, as they may release: a pin decides what devices run, like a release does.
 */
export function registerGroupRoutes(server: FastifyInstance, groups: GroupService, pins: DevicePinService): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['groups'];

  app.get(
    '/api/v1/platforms/:name/groups',
    { config: { access: 'viewer' }, schema: { tags, summary: "A platform's device groups", params: PlatformParams } },
    async (request) => ({ groups: (await groups.list(request.params.name)).map(groupJson) }),
  );

  app.post(
    '/api/v1/platforms/:name/groups',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Create a device group', params: PlatformParams, body: CreateBody },
    },
    async (request, reply) => {
      const group = await groups.create(request.params.name, request.body, actorOf(request));
      return reply.code(201).send(groupDetailJson(group));
    },
  );

  app.get(
    '/api/v1/platforms/:name/groups/:group',
    { config: { access: 'viewer' }, schema: { tags, summary: 'A group and its members', params: GroupParams } },
    async (request) => groupDetailJson(await groups.get(request.params.name, request.params.group)),
  );

  app.patch(
    '/api/v1/platforms/:name/groups/:group',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Rename, exclude/include, pin/unpin a group', params: GroupParams, body: PatchBody },
    },
    async (request) => {
      const { name, group } = request.params;
      return groupDetailJson(await groups.update(name, group, request.body, actorOf(request)));
    },
  );

  app.delete(
    '/api/v1/platforms/:name/groups/:group',
    { config: { access: 'uploader' }, schema: { tags, summary: 'Delete a group', params: GroupParams } },
    async (request, reply) => {
      await groups.delete(request.params.name, request.params.group, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/platforms/:name/groups/:group/members',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: 'Add devices: MACs in any common format, and/or allowlisted devices by label',
        params: GroupParams,
        body: AddBody,
      },
    },
    async (request) => {
      const { name, group } = request.params;
      return groupDetailJson(await groups.addMembers(name, group, request.body, actorOf(request)));
    },
  );

  app.delete(
    '/api/v1/platforms/:name/groups/:group/members',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Remove devices from a group', params: GroupParams, body: RemoveBody },
    },
    async (request) => {
      const { name, group } = request.params;
      return groupDetailJson(await groups.removeMembers(name, group, request.body.macs, actorOf(request)));
    },
  );

  app.get(
    '/api/v1/devices/:mac/pin',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: "A device's pins (its own first) and groups", params: MacParams },
    },
    async (request) => {
      const found = await pins.of(request.params.mac);
      return { pins: found.pins.map(pinJson), groups: found.groups };
    },
  );

  app.put(
    '/api/v1/devices/:mac/pin',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Pin one device to an app version', params: MacParams, body: PinBody },
    },
    async (request) => {
      const { version, platform } = request.body;
      return pinJson(await pins.pin(request.params.mac, version, actorOf(request), platform));
    },
  );

  app.delete(
    '/api/v1/devices/:mac/pin',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: "Unpin: back to automatic (the device's own pin)",
        params: MacParams,
        querystring: UnpinQuery,
      },
    },
    async (request, reply) => {
      await pins.unpin(request.params.mac, actorOf(request), request.query.platform);
      return reply.code(204).send();
    },
  );
}

function groupJson(g: GroupSummary) {
  return {
    name: g.name,
    excluded: g.excluded,
    pinnedVersion: g.pinnedVersion,
    members: g.members,
    createdAt: new Date(g.createdAt).toISOString(),
  };
}

function groupDetailJson(g: GroupDetail) {
  return { ...groupJson(g), macs: g.macs.map(formatMac) };
}

function pinJson(p: DevicePin) {
  return { mac: formatMac(p.mac), platform: p.platform, version: p.version, group: p.group };
}
