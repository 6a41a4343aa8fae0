import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../features/auth/auth-service.js';
import { registerAccountRoutes } from './routes/account-routes.js';
import { registerDashboardRoutes } from './routes/dashboard-routes.js';
import { registerDeviceRoutes } from './routes/device-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerGroupUiRoutes } from './routes/group-routes.js';
import { registerPlatformRoutes } from './routes/platform-routes.js';
import type { UiServices } from './routes/route-helpers.js';
import { registerSetupRoutes } from './routes/setup-routes.js';
import { registerIntegrationRoutes } from './routes/integration-routes.js';
import { registerUploadRoutes } from './routes/upload-routes.js';

export type { UiServices };

/**
 * Server-rendered pages: they read through the fleet reader and change through the services, as the REST API does.
 * Forms post here and redirect back (POST → GET). Each area's routes are in `routes/`, beside the pages they draw.
 */
export function registerUiRoutes(app: FastifyInstance, ui: UiServices & { auth: AuthService }): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  registerDashboardRoutes(app, ui);
  registerPlatformRoutes(app, ui);
  registerUploadRoutes(app, ui);
  registerDeviceRoutes(app, ui);
  registerGroupUiRoutes(app, ui);
  registerEventRoutes(app, ui);
  registerSetupRoutes(app, ui);
  if (ui.integrations) registerIntegrationRoutes(app, ui);
  registerAccountRoutes(app, ui.auth, ui.now);
}
