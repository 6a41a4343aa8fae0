import type { FastifyInstance } from 'fastify';
import type { EventQuery } from '../../features/fleet/fleet-reader.js';
import { isRowId } from '../../lib/row-id.js';
import { EventsPage, type EventPaging } from '../pages/events-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, type UiServices } from './route-helpers.js';

const EVENTS_PER_PAGE = 50;

/**
 * What was typed in the MAC field, as the store searches it: a whole MAC, or part of one (hex digits, separators
 * ignored). Undefined when nothing was typed; an error message when it cannot be part of a MAC.
 */
export function macSearch(typed: string | undefined): Pick<EventQuery, 'mac' | 'macContains'> | string | undefined {
  const digits = (typed ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s:.-]/g, '');
  if (!digits) return undefined;
  if (!/^[0-9a-f]{1,12}$/.test(digits)) return `"${typed}" is not a MAC address or part of one (hex digits only)`;
  return digits.length === 12 ? { mac: digits } : { macContains: digits };
}

/** The event log: filtered, and paged newer and older by event id (ids only grow). */
export function registerEventRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/events', pageAccess('viewer'), async (request, reply) => {
    const q = queryOf(request);
    const filter = {
      platform: q.platform || undefined,
      mac: q.mac || undefined,
      decision: q.decision || undefined,
      type: q.type || undefined,
    };
    const platforms = (await ui.reader.platforms()).map((p) => p.name);
    const mac = macSearch(q.mac);
    if (typeof mac === 'string') {
      const page = (
        <EventsPage events={[]} filter={filter} paging={NO_PAGES} platforms={platforms} now={ui.now()} error={mac} />
      );
      return sendPage(request, reply, page, 400);
    }
    const base = { platform: filter.platform, decision: filter.decision, type: filter.type, ...mac };
    const before = isRowId(Number(q.before)) ? Number(q.before) : undefined;
    const after = before === undefined && isRowId(Number(q.after)) ? Number(q.after) : undefined;
    const { events } = await ui.reader.events({ ...base, beforeId: before, afterId: after, limit: EVENTS_PER_PAGE });
    const exists = async (where: Pick<EventQuery, 'beforeId' | 'afterId'>) =>
      (await ui.reader.events({ ...base, ...where, limit: 1 })).events.length > 0;
    const first = events[0]?.id;
    const last = events[events.length - 1]?.id;
    const paging: EventPaging = {
      newer: first !== undefined && (await exists({ afterId: first })) ? first : null,
      older: last !== undefined && (await exists({ beforeId: last })) ? last : null,
    };
    return sendPage(
      request,
      reply,
      <EventsPage events={events} filter={filter} paging={paging} platforms={platforms} now={ui.now()} />,
    );
  });
}

const NO_PAGES: EventPaging = { newer: null, older: null };
