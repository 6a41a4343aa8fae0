import type { FastifyInstance } from 'fastify';
import { DevicePage, DevicesPage } from '../pages/devices-page.js';
import { sendPage } from '../render.js';
import { deviceSteeringProps } from './group-routes.js';
import { deviceList } from './device-list.js';
import { pageAccess, queryOf, type UiServices } from './route-helpers.js';

/** The device inventory and one device's page. */
export function registerDeviceRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/devices', pageAccess('viewer'), async (request, reply) =>
    sendPage(request, reply, <DevicesPage {...await deviceList(ui, queryOf(request))} now={ui.now()} />),
  );

  app.get('/devices/:mac', pageAccess('viewer'), async (request, reply) => {
    const { device, label, events } = await ui.reader.device((request.params as { mac: string }).mac);
    const steering = await deviceSteeringProps(ui, device.mac, device.platform_name);
    return sendPage(
      request,
      reply,
      <DevicePage {...{ device, label, events, steering }} now={ui.now()} notice={queryOf(request).notice} />,
    );
  });
}
