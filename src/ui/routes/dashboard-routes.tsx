import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../lib/domain-error.js';
import { DashboardPage } from '../pages/dashboard-page.js';
import { EventList } from '../pages/events-page.js';
import { render, sendPage } from '../render.js';
import { pageAccess, queryOf, redirect, type Form, type UiServices } from './route-helpers.js';
import { actorOf } from '../../http/auth.js';

/** The dashboard, its self-refreshing list of events, and its form that creates a platform. */
export function registerDashboardRoutes(app: FastifyInstance, ui: UiServices): void {
  const dashboard = async () => ({ ...(await ui.reader.dashboard()), now: ui.now() });

  app.get('/', pageAccess('viewer'), async (request, reply) =>
    sendPage(request, reply, <DashboardPage {...await dashboard()} notice={queryOf(request).notice} />),
  );
  app.get('/fragments/latest-events', pageAccess('viewer'), async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(render(<EventList events={await ui.reader.latestEvents()} now={ui.now()} />)),
  );

  app.post('/platforms', pageAccess('admin'), async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    try {
      const platform = await ui.platforms.create({ name: form.name ?? '', chip: form.chip || null }, actorOf(request));
      return redirect(reply, `/platforms/${encodeURIComponent(platform.name)}`, `Platform ${platform.name} created.`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const typed = { name: form.name, chip: form.chip };
      const page = <DashboardPage {...await dashboard()} error={error.message} typed={typed} />;
      return sendPage(request, reply, page, error.status);
    }
  });
}
