import type { FastifyInstance } from 'fastify';
import { IntegrationsPage } from '../pages/integrations-page.js';
import { sendPage } from '../render.js';
import { pageAccess, type UiServices } from './route-helpers.js';

/** The MQTT connection and the webhooks' deliveries: admins only, as webhook URLs may hold secrets. */
export function registerIntegrationRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/integrations', pageAccess('admin'), async (request, reply) => {
    const view = await ui.integrations!();
    return sendPage(request, reply, <IntegrationsPage {...view} now={ui.now()} />);
  });
}
