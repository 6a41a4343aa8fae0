import { normalizeMac } from '../../lib/mac.js';
import { isValidVersionText, VERSION_TEXT_RULE } from '../../lib/version.js';
import { validateChip, validateDeviceLabel, validatePlatformName } from '../platforms/platform-service.js';
import type { ExportedPlatform } from './export-format.js';
import { releaseSettingColumns } from '../platforms/release-settings.js';

/**
 * One platform of an export, checked by the same rules the API, the UI and uploads apply (names, chips, MACs,
 * labels, versions), and normalised as they would store it: nothing enters by import that those would refuse. An
 * export is edited by hand or written by another version of this program, so it is input like any other.
 */
export function checkExportedPlatform(platform: ExportedPlatform): { platform: ExportedPlatform; problems: string[] } {
  const problems: string[] = [];
  const attempt = <T>(what: string, check: () => T, fallback: T): T => {
    try {
      return check();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const name = attempt(`platform ${JSON.stringify(platform.name)}`, () => validatePlatformName(platform.name), '');
  const where = `platform ${JSON.stringify(name || platform.name)}`;
  const chip = attempt(where, () => validateChip(platform.chip) ?? null, null);
  const allowlist = platform.allowlist.map((entry) => {
    const mac = normalizeMac(entry.mac);
    if (!mac) problems.push(`${where}: ${JSON.stringify(entry.mac)} is not a MAC address`);
    const label = attempt(`${where} device ${entry.mac}`, () => validateDeviceLabel(entry.label), null);
    return { ...entry, mac: mac ?? entry.mac, label };
  });
  for (const image of platform.images) {
    if (!isValidVersionText(image.version))
      problems.push(`${where} ${image.kind} version ${JSON.stringify(image.version)}: ${VERSION_TEXT_RULE}`);
  }
  attempt(`${where} release settings`, () => releaseSettingColumns(platform), {});
  return { platform: { ...platform, name, chip, allowlist }, problems };
}
