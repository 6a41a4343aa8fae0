import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import type { FirmwareService } from '../firmware/firmware-service.js';
import type { PlatformService } from '../platforms/platform-service.js';

/**
 * Moves a fleet over from the original Flask server (kstobbe/esp-update-server): its `platforms.yml` maps
 * lower-case platform names to `version`, `file`, `uploaded`, `downloads` and `whitelist` (12-hex-digit MACs), with
 * the binaries beside it. Devices keep working unchanged: `/update?dev=…&ver=…` is the same URL.
 */
export interface LegacyReport {
  imported: string[];
  skipped: string[];
  failed: string[];
}

interface LegacyPlatform {
  version?: string | null;
  file?: string | null;
  uploaded?: string | null;
  downloads?: string | null;
  whitelist?: string[] | string | null;
}

/** Whether a failsafe-schema scalar means "nothing" (the original wrote `null`, or left the value empty). */
function present(value: string | null | undefined): string | undefined {
  const text = typeof value === 'string' ? value.trim() : undefined;
  return text && text !== 'null' && text !== '~' ? text : undefined;
}

/**
 * The folder holding `platforms.yml`: the one given, or its `bin/` (the original keeps its data there, inside its app
 * folder), so that either path works.
 */
export async function legacyFolder(dir: string): Promise<string> {
  for (const candidate of [dir, join(dir, 'bin')]) {
    if ((await stat(join(candidate, 'platforms.yml')).catch(() => undefined))?.isFile()) return candidate;
  }
  const exists = (await stat(dir).catch(() => undefined))?.isDirectory();
  throw new DomainError(
    'bad-request',
    exists
      ? `${dir} has no platforms.yml, nor a bin/platforms.yml: give the original server’s app folder or its bin/ folder`
      : `there is no folder ${dir}`,
  );
}

export async function importLegacy(
  dir: string,
  services: { platforms: PlatformService; firmware: FirmwareService },
): Promise<LegacyReport> {
  const report: LegacyReport = { imported: [], skipped: [], failed: [] };
  const file = join(dir, 'platforms.yml');
  let data: unknown;
  try {
    // The failsafe schema reads every scalar as text, so a MAC such as 001122334455 keeps its leading zeros.
    data = parseYaml(await readFile(file, 'utf8'), { schema: 'failsafe' });
  } catch (error) {
    throw new DomainError(
      'bad-request',
      `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]}`,
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new DomainError('bad-request', `${file}: expected a mapping of platform names`);
  }

  for (const [name, raw] of Object.entries(data as Record<string, LegacyPlatform | string>)) {
    const legacy: LegacyPlatform = typeof raw === 'object' && raw !== null ? raw : {};
    let platform;
    try {
      platform = await services.platforms.get(name).catch(async (error: unknown) => {
        if (error instanceof DomainError && error.code === 'unknown-platform')
          return services.platforms.create({ name }, 'import-legacy');
        throw error;
      });
      report.imported.push(`platform ${platform.name}`);
    } catch (error) {
      report.failed.push(`platform "${name}": ${(error as Error).message}`);
      continue;
    }

    const macs =
      legacy.whitelist === null || legacy.whitelist === undefined
        ? []
        : Array.isArray(legacy.whitelist)
          ? legacy.whitelist
          : [legacy.whitelist];
    for (const mac of macs.map((m) => String(m).trim()).filter((m) => present(m))) {
      if (!normalizeMac(mac)) {
        report.failed.push(`${platform.name}: "${mac}" is not a MAC address`);
        continue;
      }
      await services.platforms.allow(platform.name, mac, null, 'import-legacy');
      report.imported.push(`${platform.name}: device ${mac}`);
    }

    const version = present(legacy.version ?? undefined);
    const binary = present(legacy.file ?? undefined);
    if (!version || !binary) {
      report.skipped.push(`${platform.name}: no firmware recorded`);
      continue;
    }
    // The original built file names itself; take only the name, never a path.
    const path = join(dir, basename(binary));
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      report.failed.push(
        `${platform.name} ${version}: ${basename(binary)} ${info ? 'is not a plain file' : 'is missing'}`,
      );
      continue;
    }
    try {
      // Streamed: the upload enforces its size limit while reading, as for any upload.
      const result = await services.firmware.upload(createReadStream(path), {
        platform: platform.name,
        version,
        filename: basename(binary),
        // The old server stored any text as a version and served its one image to every device: keep both.
        label: true,
        wasReleased: true,
        actor: 'import-legacy',
      });
      const downloads = present(legacy.downloads ?? undefined);
      report.imported.push(
        `${platform.name} ${result.image.version}${downloads ? ` (${downloads} downloads on the old server)` : ''}`,
      );
    } catch (error) {
      if (error instanceof DomainError && error.code === 'version-exists')
        report.skipped.push(`${platform.name} ${version}: already here`);
      else report.failed.push(`${platform.name} ${version}: ${(error as Error).message}`);
    }
  }
  return report;
}
