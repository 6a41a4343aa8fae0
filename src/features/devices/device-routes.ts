import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Catalogue } from '../../db/stores.js';
import { Hours, RowId } from '../../http/route-schemas.js';
import { DomainError } from '../../lib/domain-error.js';
import { compareVersions } from '../../lib/version.js';
import { deviceJson, eventJson } from '../api-views.js';
import { normalizeMac } from '../../lib/mac.js';

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
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

/** Read-only views of device activity: the inventory and the event log. */
export function registerActivityRoutes(server: FastifyInstance, catalogue: Catalogue, now: () => number): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const { stores } = catalogue;

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
      const platform = q.platform ? await stores.platforms.findByName(q.platform) : undefined;
      if (q.platform && !platform)
        throw new DomainError('unknown-platform', `there is no platform named "${q.platform}"`);
      let devices = await stores.devices.list({
        platformId: platform?.id,
        seenSince: q.seenWithinHours !== undefined ? now() - q.seenWithinHours * 3_600_000 : undefined,
        limit: q.limit ?? 500,
      });
      if (q.outdated) {
        const released = new Map<number, string>();
        for (const p of await stores.platforms.list()) {
          const image = p.released_app_id ? await stores.images.findById(p.released_app_id) : undefined;
          if (image) released.set(p.id, image.version);
        }
        devices = devices.filter((d) => {
          const version = d.platform_id !== null ? released.get(d.platform_id) : undefined;
          return (
            version !== undefined && (d.reported_version === null || compareVersions(d.reported_version, version) !== 0)
          );
        });
      }
      return { devices: devices.map(deviceJson) };
    },
  );

  app.get(
    '/api/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['events'],
        summary: 'Events, newest first; page with ?before=<last id>',
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
      const limit = q.limit ?? 100;
      const events = await stores.events.list({
        platform: q.platform,
        mac,
        decision: q.decision,
        type: q.type,
        beforeId: q.before,
        limit,
      });
      return { events: events.map(eventJson), next: events.length === limit ? events[events.length - 1]!.id : null };
    },
  );
}
