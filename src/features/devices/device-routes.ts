import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Hours, RowId } from '../../http/route-schemas.js';
import { DomainError } from '../../lib/domain-error.js';
import { deviceJson, eventJson } from '../api-views.js';
import type { FleetReader } from '../fleet/fleet-reader.js';
import { normalizeMac } from '../../lib/mac.js';
import { DEVICE_STATUSES, type DeviceStatus } from '../fleet/device-status.js';
import { DEVICE_CHIPS } from './device-listing.js';
import { DEVICE_LIST_SORTS } from './device-pages.js';

/** `current,outdated` → the statuses; an unknown one is a 400 that lists the known ones. */
function parseStatuses(text: string): DeviceStatus[] {
  const statuses: DeviceStatus[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const status = DEVICE_STATUSES.find((s) => s === part);
    if (!status) {
      throw new DomainError('bad-request', `unknown status: use ${DEVICE_STATUSES.join(', ')} (comma-separated)`);
    }
    statuses.push(status);
  }
  return statuses;
}

const DeviceQuery = Type.Object({
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Optional(
    Type.String({ maxLength: 64, description: `one or more of ${DEVICE_STATUSES.join(', ')}, comma-separated` }),
  ),
  outdated: Type.Optional(
    Type.Boolean({ description: 'only devices running an older version than their platform moves them to' }),
  ),
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the exact version reported' })),
  chip: Type.Optional(Type.String({ maxLength: 16, description: DEVICE_CHIPS.join(' or ') })),
  seenWithinHours: Type.Optional(Hours()),
  search: Type.Optional(Type.String({ maxLength: 64, description: 'part of a MAC (any format) or of a label' })),
  sort: Type.Optional(
    Type.Union(
      DEVICE_LIST_SORTS.map((s) => Type.Literal(s)),
      { description: 'seen (default), mac, or version (as versions compare)' },
    ),
  ),
  dir: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  after: Type.Optional(Type.String({ maxLength: 400, description: "a page's next: the page after it" })),
  before: Type.Optional(Type.String({ maxLength: 400, description: "a page's previous: the page before it" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 500 })),
});
const EventQuery = Type.Object({
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  mac: Type.Optional(Type.String({ maxLength: 32 })),
  decision: Type.Optional(Type.String({ maxLength: 32 })),
  type: Type.Optional(Type.String({ maxLength: 32 })),
  before: Type.Optional(RowId({ description: 'event id: return older events (next page)' })),
  after: Type.Optional(RowId({ description: 'event id: return the next newer events (previous page), newest first' })),
  macContains: Type.Optional(
    Type.String({ maxLength: 17, description: 'part of a MAC in any format (hex digits, separators ignored)' }),
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
        summary: 'The device inventory: filtered, sorted (most recently seen first by default), a page at a time',
        querystring: DeviceQuery,
      },
    },
    async (request) => {
      const q = request.query;
      let chip: string | undefined;
      if (q.chip !== undefined) {
        chip = DEVICE_CHIPS.find((c) => c === q.chip!.toLowerCase());
        if (!chip) throw new DomainError('bad-request', `unknown chip: use ${DEVICE_CHIPS.join(' or ')}`);
      }
      const list = await reader.devices({
        platform: q.platform,
        statuses: q.status !== undefined ? parseStatuses(q.status) : undefined,
        outdated: q.outdated,
        version: q.version,
        chip,
        seenSince: q.seenWithinHours !== undefined ? now() - q.seenWithinHours * 3_600_000 : undefined,
        search: q.search,
        sort: q.sort ?? 'seen',
        descending: (q.dir ?? (q.sort === undefined || q.sort === 'seen' ? 'desc' : 'asc')) === 'desc',
        after: q.after,
        before: q.before,
        limit: q.limit ?? 500,
      });
      return {
        devices: list.devices.map((d) => ({ ...deviceJson(d), label: list.labels.get(d.mac) ?? null })),
        next: list.next,
        previous: list.previous,
        count: list.count,
        countIsLowerBound: list.countIsLowerBound,
      };
    },
  );

  app.get(
    '/api/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['events'],
        summary: 'Events, newest first; older with ?before=<last id>, newer with ?after=<first id>',
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
      let macContains: string | undefined;
      if (q.macContains) {
        macContains = q.macContains.toLowerCase().replace(/[\s:.-]/g, '');
        if (!/^[0-9a-f]{1,12}$/.test(macContains)) {
          throw new DomainError('invalid-mac', `"${q.macContains}" is not part of a MAC address (hex digits only)`);
        }
      }
      const { events, next } = await reader.events({
        platform: q.platform,
        mac,
        macContains,
        decision: q.decision,
        type: q.type,
        beforeId: q.before,
        afterId: q.before === undefined ? q.after : undefined,
        limit: q.limit ?? 100,
      });
      return { events: events.map(eventJson), next };
    },
  );
}
