import { sameSiteRedirect } from '../../http/redirect-target.js';
import type { VersionCounts } from '../release-confirm.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FirmwareService } from '../../features/firmware/firmware-service.js';
import type { RolloutService } from '../../features/rollouts/rollout-service.js';
import type { RolloutOverview } from '../../features/rollouts/rollout-overview.js';
import type { FleetReader } from '../../features/fleet/fleet-reader.js';
import type { PlatformService } from '../../features/platforms/platform-service.js';
import type { DevicePinService } from '../../features/groups/device-pin-service.js';
import type { GroupService } from '../../features/groups/group-service.js';
import type { DeviceKeyService } from '../../features/device-keys/device-key-service.js';
import type { PlatformKeyService } from '../../features/signing/platform-key-service.js';
import type { Role } from '../../features/auth/roles.js';
import type { InstallAssetService } from '../../features/install/install-asset-service.js';

/** What the pages read from (the fleet reader) and change through (the services the REST API uses too). */
import type { IntegrationsView } from '../pages/integrations-page.js';

export interface UiServices {
  reader: FleetReader;
  platforms: PlatformService;
  firmware: FirmwareService;
  rollouts: RolloutService;
  /** A platform's newest rollout with its devices by state (from the fleet in memory). */
  rolloutOverview: (platformName: string) => Promise<RolloutOverview>;
  groups: GroupService;
  pins: DevicePinService;
  /** Per-device manifest keys (ESPHome) for the "Connect a board" page; absent: the page mints none. */
  deviceKeys?: DeviceKeyService | undefined;
  /** The public keys each platform trusts (issue 17); absent: the page shows none. */
  platformKeys?: PlatformKeyService | undefined;
  /** Releases' install assets (the platform page's "Install from a browser"). */
  install?: InstallAssetService | undefined;
  now: () => number;
  /** Devices of a platform by the version they run (the fleet registry's counts); absent: none known. */
  deviceVersions?: ((platformId: number) => ReadonlyMap<string | null, number>) | undefined;
  /** `publicUrl` from the configuration: the base URL the board code uses; empty: the one the browser used. */
  publicUrl?: string | undefined;
  /** The MQTT link and the webhooks with their recent deliveries (the integrations page). */
  integrations?: (() => Promise<Omit<IntegrationsView, 'now'>>) | undefined;
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

/** Devices by version for the release confirmation; an empty list when the fleet is not wired in. */
export function versionCounts(ui: UiServices, platformId: number): VersionCounts {
  return [...(ui.deviceVersions?.(platformId) ?? new Map<string | null, number>())];
}
