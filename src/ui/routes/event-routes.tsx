import type { FastifyInstance } from 'fastify';
import { normalizeMac } from '../../lib/mac.js';
import { EventsPage } from '../pages/events-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, type UiServices } from './route-helpers.js';
import { isRowId } from '../../lib/row-id.js';

const EVENTS_PER_PAGE = 50;

/** The event log, filtered and paged. */
export function registerEventRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/events', pageAccess('viewer'), async (request, reply) => {
    const q = queryOf(request);
    const mac = q.mac ? (normalizeMac(q.mac) ?? q.mac.toLowerCase()) : undefined;
    const before = isRowId(Number(q.before)) ? Number(q.before) : undefined;
    const { events, next } = await ui.reader.events({
      platform: q.platform || undefined,
      mac,
      decision: q.decision || undefined,
      beforeId: before,
      limit: EVENTS_PER_PAGE,
    });
    const platforms = (await ui.reader.platforms()).map((p) => p.name);
    const filter = { platform: q.platform || undefined, mac: q.mac || undefined, decision: q.decision || undefined };
    return sendPage(
      request,
      reply,
      <EventsPage events={events} filter={filter} next={next} platforms={platforms} now={ui.now()} />,
    );
  });
}
