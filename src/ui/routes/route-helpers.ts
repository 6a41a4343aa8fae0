import { sameSiteRedirect } from '../../http/redirect-target.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FirmwareService } from '../../features/firmware/firmware-service.js';
import type { FleetReader } from '../../features/fleet/fleet-reader.js';
import type { PlatformService } from '../../features/platforms/platform-service.js';
import type { Role } from '../../features/auth/roles.js';

/** What the pages read from (the fleet reader) and change through (the services the REST API uses too). */
export interface UiServices {
  reader: FleetReader;
  platforms: PlatformService;
  firmware: FirmwareService;
  now: () => number;
  /** `publicUrl` from the configuration: the base URL the board code uses; empty: the one the browser used. */
  publicUrl?: string | undefined;
}

/** A parsed `application/x-www-form-urlencoded` body. */
export type Form = Record<string, string | undefined>;

/** Each page and form says who may use it (see http/auth.ts); none is hidden from the check. */
export function pageAccess(access: Role) {
  return { schema: { hide: true }, config: { access } };
}

export function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  return request.query as Record<string, string | undefined>;
}

/** After a form's change: back to a page (POST → GET), with the outcome to show there. */
export function redirect(reply: FastifyReply, to: string, notice: string): FastifyReply {
  // `to` is built from request parameters (a platform name), so it gets the same check as `next=`.
  return reply
    .code(303)
    .header('location', sameSiteRedirect(`${to}?notice=${encodeURIComponent(notice)}`))
    .send();
}
