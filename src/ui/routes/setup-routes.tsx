import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SetupPage } from '../pages/setup-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, type UiServices } from './route-helpers.js';

/** Ready-to-paste device code for a platform. */
export function registerSetupRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/setup', pageAccess('viewer'), async (request, reply) => {
    const platforms = await ui.reader.platforms();
    const selected = queryOf(request).platform ?? platforms[0]?.name ?? '';
    const serverUrl = boardUrl(request, ui.publicUrl);
    const unreachable = unreachableReason(serverUrl);
    return sendPage(
      request,
      reply,
      <SetupPage platforms={platforms} selected={selected} serverUrl={serverUrl} unreachable={unreachable} />,
    );
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
