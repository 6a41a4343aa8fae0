import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../lib/domain-error.js';
import type { PlatformSummary } from '../../features/fleet/platform-summary.js';
import type { EventView } from '../../features/views.js';
import { DashboardLive, DashboardPage, type DashboardView, type MissingPlatform } from '../pages/dashboard-page.js';
import { sendFragment, sendPage } from '../render.js';
import { pageAccess, queryOf, redirect, type Form, type UiServices } from './route-helpers.js';
import { actorOf } from '../../http/auth.js';

/** How many of the newest refusals the dashboard looks through for platforms that devices ask for but do not exist. */
const RECENT_REFUSALS = 100;

/** Platform names in refusals for an unknown platform that still do not exist, newest first, each once. */
function missingPlatforms(summaries: PlatformSummary[], refusals: EventView[]): MissingPlatform[] {
  const existing = new Set(summaries.map((s) => s.platform.name));
  const missing = new Map<string, MissingPlatform>();
  for (const e of refusals) {
    if (e.reason !== 'unknown-platform' || !e.platform_name || existing.has(e.platform_name)) continue;
    if (!missing.has(e.platform_name)) missing.set(e.platform_name, { name: e.platform_name, mac: e.mac, at: e.at });
  }
  return [...missing.values()].slice(0, 5);
}

/** The dashboard, its self-refreshing regions (cards, attention, events), and its form that creates a platform. */
export function registerDashboardRoutes(app: FastifyInstance, ui: UiServices): void {
  const dashboard = async (): Promise<DashboardView> => {
    const [board, refusals] = await Promise.all([
      ui.reader.dashboard(),
      ui.reader.events({ type: 'refused', decision: 'refuse', limit: RECENT_REFUSALS }),
    ]);
    return { ...board, missing: missingPlatforms(board.summaries, refusals.events), now: ui.now() };
  };

  app.get('/', pageAccess('viewer'), async (request, reply) => {
    const query = queryOf(request);
    // "Create platform X" in the attention list links here with the name a device asked for.
    const typed = { name: query.newPlatform };
    return sendPage(request, reply, <DashboardPage {...await dashboard()} notice={query.notice} typed={typed} />);
  });
  app.get('/fragments/dashboard', pageAccess('viewer'), async (request, reply) =>
    sendFragment(request, reply, <DashboardLive {...await dashboard()} />),
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
