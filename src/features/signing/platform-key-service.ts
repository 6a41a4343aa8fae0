import type { Catalogue } from '../catalogue.js';
import type { PlatformKeyRow, PlatformRow } from '../../db/tables.js';
import {
  analyzeImage,
  parsePublicKey,
  type EmbeddedPublicKey,
  type ImageAnalysis,
} from '../../firmware-image/index.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { isRowId } from '../../lib/row-id.js';
import { changeEvent } from '../platforms/platform-service.js';
import { validateDeviceLabel } from '../platforms/platform-service.js';

/** Reads an image's bytes, for keys embedded in images analysed before analyses listed them. */
export type ImageBytes = (sha256: string) => Promise<Buffer>;

/**
 * The public keys a platform's boards trust (issue 17). With one or more, uploads must be signed by one of them
 * (`judgeSignature`). Keys come as PEM text, or are adopted from an image that carries its board's key (an ESP8266
 * sketch built for signing has its `public.key` compiled in verbatim).
 */
export class PlatformKeyService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly imageBytes: ImageBytes,
    private readonly onChange: () => void,
  ) {}

  async list(platformName: string): Promise<PlatformKeyRow[]> {
    const platform = await this.platform(platformName);
    return this.catalogue.stores.platformKeys.list(platform.id);
  }

  async add(
    platformName: string,
    pem: string,
    label: string | null | undefined,
    actor: string,
  ): Promise<PlatformKeyRow> {
    const parsed = parsePublicKey(pem);
    if (!parsed.ok) throw new DomainError('invalid-public-key', parsed.error);
    const checkedLabel = validateDeviceLabel(label);
    return this.insert(platformName, parsed.key, checkedLabel, actor, 'key-added');
  }

  /** The public keys image `imageId` of the platform carries, for the offer to adopt one. */
  async embeddedKeys(platformName: string, imageId: number): Promise<EmbeddedPublicKey[]> {
    const platform = await this.platform(platformName);
    const image = isRowId(imageId) ? await this.catalogue.stores.images.findById(imageId) : undefined;
    if (!image || image.platform_id !== platform.id) {
      throw new DomainError('unknown-image', `platform "${platform.name}" has no image with id ${imageId}`);
    }
    const analysis = JSON.parse(image.analysis) as ImageAnalysis;
    if (analysis.kind !== 'filesystem' && analysis.signature) return analysis.signature.embeddedPublicKeys;
    const again = analyzeImage(await this.imageBytes(image.sha256));
    return again.kind !== 'filesystem' && again.signature ? again.signature.embeddedPublicKeys : [];
  }

  /** Trusts the key image `imageId` carries (the one named by `digest` when it carries several). */
  async adopt(
    platformName: string,
    imageId: number,
    digest: string | undefined,
    actor: string,
  ): Promise<PlatformKeyRow> {
    const keys = await this.embeddedKeys(platformName, imageId);
    const chosen = digest ? keys.filter((k) => k.digest.startsWith(digest.toLowerCase())) : keys;
    if (keys.length === 0) {
      throw new DomainError('no-embedded-key', `image ${imageId} carries no PEM public key to adopt`);
    }
    if (chosen.length !== 1) {
      throw new DomainError(
        chosen.length === 0 ? 'unknown-key' : 'bad-request',
        `image ${imageId} carries ${keys.length} public keys (${keys.map((k) => k.digest.slice(0, 16)).join(', ')}): name one by its digest`,
      );
    }
    const parsed = parsePublicKey(chosen[0]!.pem);
    if (!parsed.ok) throw new DomainError('invalid-public-key', parsed.error);
    return this.insert(platformName, parsed.key, `from image ${imageId}`, actor, 'key-adopted');
  }

  async remove(platformName: string, keyId: number, actor: string): Promise<void> {
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const platform = await this.lock(stores, platformName);
      const key = isRowId(keyId)
        ? (await stores.platformKeys.list(platform.id)).find((k) => k.id === keyId)
        : undefined;
      if (!key || !(await stores.platformKeys.delete(platform.id, keyId))) {
        throw new DomainError('unknown-key', `platform "${platform.name}" has no key with id ${keyId}`);
      }
      await stores.events.append([{ ...changeEvent(now, 'key-removed', platform.name, actor), detail: key.digest }]);
    });
    this.onChange();
  }

  private async insert(
    platformName: string,
    key: { digest: string; type: 'rsa' | 'ec'; bits: number; pem: string },
    label: string | null,
    actor: string,
    event: 'key-added' | 'key-adopted',
  ): Promise<PlatformKeyRow> {
    const now = this.clock.now();
    const row = await this.catalogue.transact(async (stores) => {
      const platform = await this.lock(stores, platformName);
      const inserted = await stores.platformKeys.insert({
        platform_id: platform.id,
        digest: key.digest,
        type: key.type,
        bits: key.bits,
        pem: key.pem,
        label,
        created_by: actor,
        created_at: now,
      });
      await stores.events.append([{ ...changeEvent(now, event, platform.name, actor), detail: key.digest }]);
      return inserted;
    });
    this.onChange();
    return row;
  }

  private async platform(name: string): Promise<PlatformRow> {
    const platform = await this.catalogue.stores.platforms.findByName(name);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
    return platform;
  }

  private async lock(stores: Catalogue['stores'], name: string): Promise<PlatformRow> {
    const platform = await stores.platforms.lockByName(name);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
    return platform;
  }
}
