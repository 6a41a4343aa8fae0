import { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobInfo, type BlobStore, type StagedBlob } from '../../blobs/blob-store.js';
import type { Catalogue, Stores } from '../catalogue.js';
import type { ImageRow, PlatformRow } from '../../db/tables.js';
import { analyzeImage, chipDisplayName, type ImageAnalysis } from '../../firmware-image/index.js';
import { identify, type Identity } from '../../firmware-image/identify.js';
import { PlatformNameIndex } from '../../firmware-image/platform-names.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { storageFailure } from '../../lib/storage-errors.js';
import { isRowId } from '../../lib/row-id.js';
import { formatMac } from '../../lib/mac.js';
import { versionKey } from '../../lib/version.js';
import { changeEvent } from '../platforms/platform-service.js';
import { imageRow } from './image-row.js';
import type { ImageSignature } from '../signing/image-signature.js';
import { judgeUpload, trustedKeys } from '../signing/upload-signature.js';
import { signUpload } from '../signing/sign-upload.js';
import { describeKeyChange, keyChange, requireKeyChangeConfirmed } from '../signing/key-change.js';
import type { ServerSigner } from '../signing/server-signer.js';
import { descriptorProject, projectContradicts, type ReleaseVerdict } from './release-certainty.js';
import { checkExplicitVersion, releaseOnUpload, startRolloutIfDue } from './upload-release.js';
import { platformForUpload, versionForUpload } from './upload-identity.js';

export interface UploadInput {
  platform?: string | undefined;
  version?: string | undefined;
  /** Release the new image now (pinning it), whatever its version: a person's release. */
  release?: boolean | undefined;
  /** The given version is an opaque label on purpose (it need not follow the version grammar). */
  label?: boolean | undefined;
  /** Keep the image although its app descriptor names another project than the platform. */
  force?: boolean | undefined;
  /** The image is signed by another key than the released one, and that is intended (docs/security.md). */
  confirmKeyChange?: boolean | undefined;
  /**
   * Imported from a server where this image was live (import-legacy): released as it was there, but not pinned, so
   * later certain uploads still move the release.
   */
  wasReleased?: boolean | undefined;
  /** `app` or `filesystem`, when the uploader says which slot this is for. */
  kind?: ImageRow['kind'] | undefined;
  filename?: string | undefined;
  /** Who uploads: a user or token name (the event log says). */
  actor: string;
}

export interface UploadResult {
  image: ImageRow;
  platform: PlatformRow;
  analysis: ImageAnalysis;
  identity: Identity;
  released: boolean;
  /** Why it was released or kept (README "Release policy"). */
  release: ReleaseVerdict;
  /** The image's signature against the platform's keys (issue 17). */
  signature: ImageSignature;
}

/** Starts a staged rollout of an image from the platform's rollout template (the rollout engine, issue 12 §2). */
export type StartRollout = (platformName: string, imageId: number, actor: string) => Promise<void>;

export interface FirmwareServiceOptions {
  /** For platforms whose release policy is `rollout`; absent, such uploads are kept as with `manual`. */
  startRollout?: StartRollout | undefined;
  /** Server-side signing (config signingKey or signCommand); absent: uploads are kept as sent. */
  signer?: ServerSigner | undefined;
}

type KeptAnalysis = Exclude<ImageAnalysis, { kind: 'rejected' }>;
/** A signature trailer is at most 516 bytes (esp8266: 512 + the length word); room for it past the upload limit. */
const SIGNATURE_ROOM = 1024;

/** Uploads, history, release and deletion of firmware images. */
export class FirmwareService {
  private nameIndex: { key: string; index: PlatformNameIndex } | undefined;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly uploadLimit: number,
    private readonly onChange: () => void,
    /** After a deletion: its firmware file can be collected once the grace period has passed. */
    private readonly onDelete: () => void = () => undefined,
    private readonly options: FirmwareServiceOptions = {},
  ) {}

  /**
   * Stage → analyse → check the rules → commit the blob → commit the row. A failure at any step leaves the
   * catalogue as it was; a blob committed without its row is removed by the collector.
   */
  async upload(source: Readable, input: UploadInput): Promise<UploadResult> {
    let staged: StagedBlob;
    try {
      staged = await this.blobs.stage(source, this.uploadLimit);
    } catch (error) {
      if (error instanceof BlobTooLargeError) {
        throw new DomainError(
          'upload-too-large',
          `the file is larger than the upload limit (${this.uploadLimit} bytes)`,
        );
      }
      throw storageFailure(error, 'the upload was not kept') ?? error;
    }
    try {
      return await this.accept(staged, input);
    } catch (error) {
      // A full or read-only disk while committing is the operator's to fix, not a bug: say so (507/503).
      throw storageFailure(error, 'the upload was not kept') ?? error;
    } finally {
      await staged.discard();
    }
  }

  private async accept(staged: StagedBlob, input: UploadInput): Promise<UploadResult> {
    const bytes = await staged.read();
    const analysis = analyzeImage(bytes);
    if (analysis.kind === 'rejected') {
      throw new DomainError('firmware-rejected', analysis.reason, { analysis });
    }
    const kind: ImageRow['kind'] = analysis.kind === 'app' ? 'app' : 'filesystem';
    if (input.kind && input.kind !== kind) {
      throw new DomainError(
        'wrong-kind',
        kind === 'app'
          ? 'this is an application image, but a filesystem image was expected'
          : `this is a ${analysis.kind === 'filesystem' ? analysis.fsType : ''} filesystem image, but an application image was expected`,
        { analysis },
      );
    }
    checkExplicitVersion(input);
    const platforms = await this.catalogue.stores.platforms.list();
    const identity = identify(bytes, analysis, {
      platforms: this.platformIndex(platforms),
      explicit: { platform: input.platform, version: input.version },
    });
    const platform = platformForUpload(platforms, identity, analysis);
    const version = versionForUpload(identity, analysis);
    if (analysis.kind === 'app' && platform.chip && platform.chip !== analysis.chip) {
      throw new DomainError(
        'wrong-chip',
        `this image is built for ${chipDisplayName(analysis.chip)}, but platform "${platform.name}" is for ${platform.chip}`,
        { analysis, identity },
      );
    }
    if (!input.force && projectContradicts(analysis, platform.name)) {
      throw new DomainError(
        'project-mismatch',
        `the image's app descriptor names project "${descriptorProject(analysis)}", which is not platform "${platform.name}": upload it to its own platform, or send force=true (esp-ota upload --force) if this build really belongs here`,
        { analysis, identity },
      );
    }
    const checked = await this.checkSignature(bytes, analysis, platform, input, staged);
    if (!checked.signed)
      return this.keep(
        { staged, bytes, analysis, signature: checked.signature },
        platform,
        version,
        identity,
        kind,
        input,
      );
    // Signed here: the signed bytes are what is kept and served; the upload's digests stay in the signature record.
    const signedBlob = await this.stageSigned(checked.signed.bytes);
    try {
      return await this.keep(
        { staged: signedBlob, ...checked.signed, signature: checked.signature },
        platform,
        version,
        identity,
        kind,
        input,
      );
    } finally {
      await signedBlob.discard();
    }
  }

  private async stageSigned(bytes: Buffer): Promise<StagedBlob> {
    try {
      return await this.blobs.stage(Readable.from([bytes]), this.uploadLimit + SIGNATURE_ROOM);
    } catch (error) {
      if (error instanceof BlobTooLargeError) {
        throw new DomainError(
          'upload-too-large',
          `signed, the file is larger than the upload limit (${this.uploadLimit} bytes)`,
        );
      }
      throw error;
    }
  }

  /** Checks what only the catalogue can tell (the version or the bytes already kept), then commits blob and row. */
  private async keep(
    upload: { staged: StagedBlob; bytes: Uint8Array; analysis: KeptAnalysis; signature: ImageSignature },
    platform: PlatformRow,
    version: string,
    identity: Identity,
    kind: ImageRow['kind'],
    input: UploadInput,
  ): Promise<UploadResult> {
    const { staged, bytes, analysis, signature } = upload;
    const key = versionKey(version);
    const refuse = (stores: Stores, p: PlatformRow) => this.refuseKnownImage(stores, p, kind, key, version, staged);
    await refuse(this.catalogue.stores, platform);

    await staged.commit();
    const now = this.clock.now();
    const outcome = await this.catalogue.transact(async (stores) => {
      const current = await stores.platforms.lockById(platform.id);
      if (!current) throw new DomainError('unknown-platform', `platform "${platform.name}" was deleted meanwhile`);
      await refuse(stores, current);
      const image = await stores.images.insert(
        imageRow({
          platformId: current.id,
          version,
          bytes,
          blob: staged,
          analysis,
          identitySource: identity.version.source ?? null,
          filename: input.filename ?? null,
          uploadedAt: now,
          signature,
        }),
      );
      const canStart = this.options.startRollout !== undefined;
      const verdict = await releaseOnUpload(stores, current, image, identity, analysis, input, now, canStart);
      await stores.events.append([
        {
          ...changeEvent(now, 'upload', current.name, input.actor, input.filename ?? undefined),
          to_version: version,
          decision: verdict.released ? 'released' : 'kept',
          reason: verdict.code,
        },
      ]);
      return { image, verdict, platform: (await stores.platforms.findById(current.id))! };
    });
    const { startRollout } = this.options;
    const release = await startRolloutIfDue(
      startRollout,
      outcome.platform,
      outcome.image,
      outcome.verdict,
      input.actor,
    );
    this.onChange();
    return {
      image: outcome.image,
      platform: outcome.platform,
      analysis,
      identity,
      released: outcome.verdict.released,
      release,
      signature,
    };
  }

  /**
   * With trusted keys, the platform takes only images its boards will install (docs/security.md): a refusal is
   * recorded as an `upload-refused` event and answered with its own error code. When the server signs for the
   * platform (its signer's public key is one of the platform's), an unsigned application image is signed here.
   */
  private async checkSignature(
    bytes: Uint8Array,
    analysis: KeptAnalysis,
    platform: PlatformRow,
    input: UploadInput,
    original: BlobInfo,
  ): Promise<{ signature: ImageSignature; signed?: { bytes: Buffer; analysis: KeptAnalysis } }> {
    const keys = await trustedKeys(this.catalogue.stores, platform.id);
    let judged = judgeUpload(bytes, analysis, platform, keys);
    let signed: { bytes: Buffer; analysis: KeptAnalysis } | undefined;
    const signer = this.options.signer;
    if (signer && judged.signature.state === 'unsigned' && keys.some((k) => k.digest === signer.publicKey.digest)) {
      signed = await signUpload(signer, bytes, analysis);
      if (signed) {
        const again = judgeUpload(signed.bytes, signed.analysis, platform, keys);
        if (again.signature.state !== 'verified') {
          throw new DomainError(
            'signing-unavailable',
            `the ${signer.source}'s signature does not verify with its public key: nothing was kept; the server's signing setup needs attention`,
          );
        }
        const { size, md5, sha256 } = original;
        judged = { ...again, signature: { ...again.signature, signedByServer: true, original: { size, md5, sha256 } } };
      }
    }
    const { signature, refusal } = judged;
    if (!refusal) return { signature, ...(signed ? { signed } : {}) };
    await this.catalogue.stores.events.append([
      {
        ...changeEvent(this.clock.now(), 'upload-refused', platform.name, input.actor, refusal.message.slice(0, 1000)),
        decision: 'refused',
        reason: refusal.code,
      },
    ]);
    throw new DomainError(refusal.code, refusal.message, { signature });
  }

  private platformIndex(platforms: PlatformRow[]): PlatformNameIndex {
    const key = platforms.map((p) => p.name).join('\n');
    if (this.nameIndex?.key !== key)
      this.nameIndex = { key, index: new PlatformNameIndex(platforms.map((p) => p.name)) };
    return this.nameIndex.index;
  }

  /** The same version, or the same bytes under another version: either is refused before anything is kept. */
  private async refuseKnownImage(
    stores: Stores,
    platform: PlatformRow,
    kind: ImageRow['kind'],
    key: string,
    version: string,
    blob: BlobInfo,
  ): Promise<void> {
    const existing = await stores.images.findByVersion(platform.id, kind, key);
    if (existing) {
      throw new DomainError(
        'version-exists',
        `platform "${platform.name}" already has ${kind === 'app' ? 'an application' : 'a filesystem'} image version ${existing.version} (uploaded ${new Date(existing.uploaded_at).toISOString()}); delete it first to replace it`,
        { existingImageId: existing.id, version },
      );
    }
    const same = await stores.images.findByDigest(platform.id, blob.sha256);
    if (same) {
      throw new DomainError(
        'duplicate-image',
        `platform "${platform.name}" already has these exact bytes as version ${same.version} (image ${same.id}); devices running it would be sent the same firmware again`,
        { existingImageId: same.id, existingVersion: same.version },
      );
    }
  }

  async get(id: number): Promise<ImageRow> {
    const image = isRowId(id) ? await this.catalogue.stores.images.findById(id) : undefined;
    if (!image) throw unknownImage(id);
    return image;
  }

  async bytes(image: ImageRow): Promise<Buffer> {
    return this.blobs.read(image.sha256);
  }

  /** Moves the release pointer to a kept image: release, or roll back. A person chose it, so uploads will not move it. */
  async release(
    id: number,
    actor: string,
    options: { confirmKeyChange?: boolean | undefined } = {},
  ): Promise<PlatformRow> {
    const now = this.clock.now();
    if (!isRowId(id)) throw unknownImage(id);
    const platform = await this.catalogue.transact(async (stores) => {
      const { image, platform } = await lockedImage(stores, id);
      const previousId = image.kind === 'app' ? platform.released_app_id : platform.released_fs_id;
      const previous = previousId !== null ? await stores.images.findById(previousId) : undefined;
      const change = image.kind === 'app' ? keyChange(previous?.signature, image.signature) : undefined;
      requireKeyChangeConfirmed(change, options.confirmKeyChange);
      await stores.platforms.update(platform.id, {
        ...(image.kind === 'app' ? { released_app_id: image.id, app_release_pinned: 1 } : { released_fs_id: image.id }),
        updated_at: now,
      });
      await stores.events.append([
        {
          ...changeEvent(now, 'release', platform.name, actor),
          from_version: previous?.version ?? null,
          to_version: image.version,
          decision: image.kind,
          ...(change ? { detail: `key change confirmed: ${describeKeyChange(change)}` } : {}),
        },
      ]);
      return (await stores.platforms.findById(platform.id))!;
    });
    this.onChange();
    return platform;
  }

  /** Deletes a kept image. The released image cannot be deleted: release another one first. */
  async delete(id: number, actor: string): Promise<void> {
    const now = this.clock.now();
    if (!isRowId(id)) throw unknownImage(id);
    await this.catalogue.transact(async (stores) => {
      const { image, platform } = await lockedImage(stores, id);
      if (platform.released_app_id === id || platform.released_fs_id === id) {
        throw new DomainError(
          'image-released',
          `version ${image.version} is released on "${platform.name}": release another image before deleting it`,
        );
      }
      // A running or paused rollout offers its target and rolls back to its previous image: deleting either would
      // leave it pointing at nothing (the foreign keys would only null the column).
      const rollout = await stores.rollouts.active(platform.id);
      if (rollout && (rollout.image_id === id || rollout.previous_image_id === id)) {
        throw new DomainError(
          'image-in-rollout',
          `version ${image.version} is ${rollout.image_id === id ? 'the target' : 'the previous release'} of the ${rollout.state} rollout on "${platform.name}": abort or finish the rollout first`,
          { rolloutId: rollout.id },
        );
      }
      const pinnedBy = await stores.groups.pinnedTo(id);
      if (pinnedBy.length > 0) {
        throw new DomainError(
          'image-pinned',
          `version ${image.version} is pinned by ${describePinHolders(pinnedBy)} on "${platform.name}": unpin first`,
          { pinnedBy },
        );
      }
      await stores.images.delete(id);
      await stores.events.append([
        { ...changeEvent(now, 'image-deleted', platform.name, actor), from_version: image.version },
      ]);
    });
    // The blob goes when the collector finds nothing pointing at it.
    this.onChange();
    this.onDelete();
  }
}

/**
 * An image and its platform, the platform locked for the rest of the transaction (see PlatformStore.lockById). The
 * image is read again under the lock: a release or delete that got there first may have deleted it.
 */
async function lockedImage(stores: Stores, id: number): Promise<{ image: ImageRow; platform: PlatformRow }> {
  const unknown = () => unknownImage(id);
  const seen = await stores.images.findById(id);
  if (!seen) throw unknown();
  const platform = await stores.platforms.lockById(seen.platform_id);
  const image = platform && (await stores.images.findById(id));
  if (!platform || !image) throw unknown();
  return { image, platform };
}

/** `group "lab", device 5C:CF:7F:00:00:01`: device pins are groups named `@` + the MAC. */
function describePinHolders(names: string[]): string {
  return names.map((n) => (n.startsWith('@') ? `device ${formatMac(n.slice(1))}` : `group "${n}"`)).join(', ');
}

/** Also for ids no row can have (the UI passes path text through Number()): those never reach SQL. */
function unknownImage(id: number): DomainError {
  return new DomainError('unknown-image', `there is no firmware image with id ${id}`);
}
