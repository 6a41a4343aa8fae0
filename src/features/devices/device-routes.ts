import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Hours, RowId } from '../../http/route-schemas.js';
import { DomainError } from '../../lib/domain-error.js';
import { deviceJson, eventJson } from '../api-views.js';
import type { FleetReader } from '../fleet/fleet-reader.js';
import { normalizeMac } from '../../lib/mac.js';
import { MAX_ROW_ID } from '../../lib/row-id.js';

const DeviceQuery = Type.Object({
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  outdated: Type.Optional(Type.Boolean({ description: 'only devices not running the released version' })),
  seenWithinHours: Type.Optional(Hours()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 500 })),
});
const EventQuery = Type.Object({
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  mac: Type.Optional(Type.String({ maxLength: 32 })),
  decision: Type.Optional(Type.String({ maxLength: 32 })),
  type: Type.Optional(Type.String({ maxLength: 32 })),
  before: Type.Optional(RowId({ description: 'event id: return older events (next page)' })),
  after: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_ROW_ID, description: 'event id: return newer events, oldest first' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

/** Read-only views of device activity: the inventory and the event log. */
export function registerActivityRoutes(server: FastifyInstance, reader: FleetReader, now: () => number): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/devices',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['devices'],
        summary: 'The device inventory, most recently seen first',
        querystring: DeviceQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const devices = await reader.devices({
        platform: q.platform,
        seenSince: q.seenWithinHours !== undefined ? now() - q.seenWithinHours * 3_600_000 : undefined,
        outdated: q.outdated,
        limit: q.limit ?? 500,
      });
      return { devices: devices.map(deviceJson) };
    },
  );

  app.get(
    '/api/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['events'],
        summary: 'Events, newest first; page with ?before=<last id>; ?after=<id> gives newer ones, oldest first',
        querystring: EventQuery,
      },
    },
    async (request) => {
      const q = request.query;
      let mac: string | undefined;
      if (q.mac) {
        mac = normalizeMac(q.mac);
        if (!mac) throw new DomainError('invalid-mac', `"${q.mac}" is not a MAC address`);
      }
      const { events, next } = await reader.events({
        platform: q.platform,
        mac,
        decision: q.decision,
        type: q.type,
        beforeId: q.before,
        afterId: q.after,
        limit: q.limit ?? 100,
      });
      return { events: events.map(eventJson), next };
    },
  );
}
