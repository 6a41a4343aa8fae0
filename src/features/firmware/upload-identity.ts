import type { PlatformRow } from '../../db/tables.js';
import type { ImageAnalysis } from '../../firmware-image/index.js';
import type { Identity } from '../../firmware-image/identify.js';
import { DomainError } from '../../lib/domain-error.js';
import { isValidVersionText, VERSION_TEXT_RULE } from '../../lib/version.js';

/** The platform an upload goes to: identified or given, and existing; otherwise the uploader is asked. */
export function platformForUpload(platforms: PlatformRow[], identity: Identity, analysis: ImageAnalysis): PlatformRow {
  const name = identity.platform.value;
  if (!name) {
    throw new DomainError(
      'identity-needed',
      identity.platform.status === 'ambiguous'
        ? 'the image names several platforms: say which one it is for'
        : 'the image does not say which platform it is for: say which one',
      { analysis, identity, needs: ['platform'] },
    );
  }
  const platform = platforms.find((p) => p.name_key === name.trim().toLowerCase());
  if (!platform) {
    throw new DomainError(
      'unknown-platform',
      `there is no platform named "${name}" (${identity.platform.evidence}); create it first`,
      {
        analysis,
        identity,
        detectedPlatform: name,
      },
    );
  }
  return platform;
}

/** The version an upload is stored as; when the image does not single one out, the uploader is asked. */
export function versionForUpload(identity: Identity, analysis: ImageAnalysis): string {
  const version = identity.version.value;
  if (!version) {
    const message =
      analysis.kind === 'filesystem'
        ? 'a filesystem image states no version: give one'
        : identity.version.status === 'ambiguous'
          ? `the image holds several possible versions (${identity.version.candidates
              .map((c) => c.value)
              .slice(0, 5)
              .join(', ')}): say which one it is`
          : 'the image states no version: give one';
    throw new DomainError('identity-needed', message, { analysis, identity, needs: ['version'] });
  }
  if (!isValidVersionText(version)) {
    throw new DomainError('invalid-version', VERSION_TEXT_RULE);
  }
  return version;
}
