import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../../http/auth.js';
import { sameSiteRedirect } from '../../http/redirect-target.js';
import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import type { DeviceKey } from '../../features/device-keys/device-key-service.js';
import { SetupPage } from '../pages/setup-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, type Form, type UiServices } from './route-helpers.js';

/** Ready-to-paste device code for a platform; admins mint a device's key for its ESPHome manifest URL here. */
export function registerSetupRoutes(app: FastifyInstance, ui: UiServices): void {
  const page = async (
    request: FastifyRequest,
    reply: FastifyReply,
    selected: string | undefined,
    device: string | undefined,
    message: { notice?: string | undefined; error?: string | undefined; status?: number },
  ) => {
    const platforms = await ui.reader.platforms();
    const name = selected ?? platforms[0]?.name ?? '';
    const serverUrl = boardUrl(request, ui.publicUrl);
    const unreachable = unreachableReason(serverUrl);
    const exists = platforms.some((p) => p.name === name);
    const keys: DeviceKey[] = exists && ui.deviceKeys ? await ui.deviceKeys.list(name) : [];
    const mac = device ? normalizeMac(device) : undefined;
    const chosen = mac ? keys.find((k) => normalizeMac(k.mac) === mac) : undefined;
    return sendPage(
      request,
      reply,
      <SetupPage
        platforms={platforms}
        selected={name}
        serverUrl={serverUrl}
        unreachable={unreachable}
        deviceKeys={keys}
        device={chosen}
        canMintKeys={ui.deviceKeys !== undefined}
        notice={message.notice}
        error={message.error}
      />,
      message.status,
    );
  };

  app.get('/setup', pageAccess('viewer'), async (request, reply) => {
    const query = queryOf(request);
    return page(request, reply, query.platform, query.device, { notice: query.notice });
  });

  // A key for a device: its ESPHome manifest URL is then shown filled in (minting again replaces the old key).
  app.post('/setup/device-key', pageAccess('admin'), async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const platform = form.platform ?? '';
    if (!ui.deviceKeys) return page(request, reply, platform, undefined, { error: 'no key service', status: 404 });
    try {
      const key = await ui.deviceKeys.mint(platform, form.mac ?? '', actorOf(request));
      const to = `/setup?platform=${encodeURIComponent(key.platform)}&device=${encodeURIComponent(key.mac)}`;
      const notice = `A new key for ${key.mac}: its manifest URL is in the ESPHome code below.`;
      return reply
        .code(303)
        .header('location', sameSiteRedirect(`${to}&notice=${encodeURIComponent(notice)}`))
        .send();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page(request, reply, platform, undefined, { error: error.message, status: error.status });
    }
  });
}

/** The configured public URL, or else the address the browser used (which may be one only this computer knows). */
function boardUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}

/** Why boards could not use this URL, if they could not. */
function unreachableReason(serverUrl: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(serverUrl).hostname;
  } catch {
    return `This page was reached as ${serverUrl}, which is not an address boards can use.`;
  }
  return isLoopback(hostname)
    ? `This code points boards at ${serverUrl}, which is this computer for every board: they cannot reach it.`
    : undefined;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\./.test(host) ||
    host === '::1' ||
    host === '0.0.0.0' ||
    host === '::'
  );
}
