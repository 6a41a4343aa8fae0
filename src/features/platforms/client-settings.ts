import type { Esp8266Gzip, PlatformRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';
import type { Stores } from '../catalogue.js';

/** What a person may set about the ESP8266 clients that ride on ESP8266httpUpdate (docs/clients.md). */
export interface ClientSettings {
  /** Gzip copies for ESP8266 devices: `off`, `auto` (running image built with core ≥ 2.7) or `on` (every device). */
  esp8266Gzip?: Esp8266Gzip | undefined;
  /** The platform whose released app is served as this platform's Tasmota `-minimal` image; null unpairs it. */
  minimalPlatform?: string | null | undefined;
}

const GZIP_MODES: readonly Esp8266Gzip[] = ['off', 'auto', 'on'];

/**
 * The columns for the settings that were given, validated against the catalogue as it is inside the transaction:
 * the minimal platform must exist and be another platform.
 */
export async function clientSettingColumns(
  settings: ClientSettings,
  stores: Pick<Stores, 'platforms'>,
  platformId: number | undefined,
): Promise<Partial<Pick<PlatformRow, 'esp8266_gzip' | 'minimal_platform_id'>>> {
  const columns: Partial<Pick<PlatformRow, 'esp8266_gzip' | 'minimal_platform_id'>> = {};
  if (settings.esp8266Gzip !== undefined) {
    if (!GZIP_MODES.includes(settings.esp8266Gzip))
      throw new DomainError('bad-request', 'esp8266Gzip is one of off, auto, on');
    columns.esp8266_gzip = settings.esp8266Gzip;
  }
  if (settings.minimalPlatform !== undefined) {
    if (settings.minimalPlatform === null || settings.minimalPlatform.trim() === '') {
      columns.minimal_platform_id = null;
    } else {
      const minimal = await stores.platforms.findByName(settings.minimalPlatform);
      if (!minimal)
        throw new DomainError('unknown-platform', `there is no platform named "${settings.minimalPlatform}"`);
      if (minimal.id === platformId)
        throw new DomainError('bad-request', 'a platform cannot be its own minimal platform');
      columns.minimal_platform_id = minimal.id;
    }
  }
  return columns;
}
