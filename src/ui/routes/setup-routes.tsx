import type { FastifyInstance } from 'fastify';
import { SetupPage } from '../pages/setup-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, type UiServices } from './route-helpers.js';

/** Ready-to-paste device code for a platform. */
export function registerSetupRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/setup', pageAccess('viewer'), async (request, reply) => {
    const platforms = await ui.reader.platforms();
    const selected = queryOf(request).platform ?? platforms[0]?.name ?? '';
    const serverUrl = `${request.protocol}://${request.host}`;
    return sendPage(request, reply, <SetupPage platforms={platforms} selected={selected} serverUrl={serverUrl} />);
  });
}
