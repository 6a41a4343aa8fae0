import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StagedBlob } from '../../blobs/blob-store.js';
import { actorOf } from '../../http/auth.js';
import { readUploadFiles } from '../../http/multipart-upload.js';
import { RowId } from '../../http/route-schemas.js';
import { hex } from '../../firmware-image/byte-reader.js';
import { DomainError } from '../../lib/domain-error.js';
import type { InstallAsset } from './install-asset-store.js';
import type { InstallAssetService, InstallFiles } from './install-asset-service.js';

const IdParams = Type.Object({ id: RowId() });
const PlatformParams = Type.Object({ platform: Type.String({ minLength: 1, maxLength: 64 }) });
const PartParams = Type.Object({
  platform: Type.String({ minLength: 1, maxLength: 64 }),
  file: Type.String({ pattern: '^[0-9a-f]{64}\\.bin$' }),
});

/** Multipart file fields: `factory` alone, or `bootloader`, `partitions` and `app` together. */
const FIELDS = ['factory', 'bootloader', 'partitions', 'app'] as const;

export function installAssetJson(asset: InstallAsset) {
  return {
    imageId: asset.image_id,
    layout: asset.layout,
    chip: asset.chip,
    appOffset: hex(asset.app_offset),
    createdBy: asset.created_by,
    createdAt: new Date(asset.created_at).toISOString(),
    parts: asset.parts.map((p) => ({
      role: p.role,
      offset: hex(p.flash_offset),
      size: p.size,
      md5: p.md5,
      sha256: p.blob_key,
    })),
  };
}

/**
 * Reads the files of an install asset into staging: a raw `application/octet-stream` body is one factory image;
 * a multipart body names its files. Whatever was staged is discarded if reading fails.
 */
export async function stageInstallFiles(
  request: FastifyRequest,
  install: InstallAssetService,
): Promise<InstallFiles<StagedBlob>> {
  const staged = new Map<string, StagedBlob>();
  try {
    if (request.isMultipart()) {
      await readUploadFiles(request, FIELDS, async (name: string, file: Readable) => {
        staged.set(name, await install.stage(file));
      });
    } else if ((request.headers['content-type'] ?? '').startsWith('application/octet-stream')) {
      staged.set('factory', await install.stage(request.body as Readable));
    } else {
      throw new DomainError(
        'unsupported-media-type',
        'send a factory image as application/octet-stream, or multipart/form-data with "factory" or "bootloader", "partitions" and "app"',
      );
    }
    return installFiles(staged);
  } catch (error) {
    for (const file of staged.values()) await file.discard();
    throw error;
  }
}

function installFiles(staged: Map<string, StagedBlob>): InstallFiles<StagedBlob> {
  const factory = staged.get('factory');
  if (factory && staged.size === 1) return { factory };
  const [bootloader, partitionTable, app] = [staged.get('bootloader'), staged.get('partitions'), staged.get('app')];
  if (!factory && bootloader && partitionTable && app) return { bootloader, partitionTable, app };
  throw new DomainError(
    'bad-request',
    'send either the file "factory" (a merged/factory image) or all three of "bootloader", "partitions" and "app"',
  );
}

/**
 * The REST side of install assets, and what a browser install reads. The manifest and its parts need a viewer (a
 * person logged in, or a token): they are fetched by ESP Web Tools in that person's browser, with the session
 * cookie, to flash a board that is not a device of the fleet yet; the platform's device access (allowlist, device
 * login) identifies boards that already run its firmware and has nothing to say about a blank board on a desk.
 */
export function registerInstallRoutes(server: FastifyInstance, install: InstallAssetService): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['firmware'];

  app.post(
    '/api/v1/firmware/:id/install-asset',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: 'Attach a factory image (or bootloader, partitions and app) to this release for browser installs',
        params: IdParams,
      },
    },
    async (request, reply) => {
      try {
        const files = await stageInstallFiles(request, install);
        const asset = await install.add(request.params.id, files, actorOf(request));
        return reply.code(201).send(installAssetJson(asset));
      } catch (error) {
        // Refused before the whole body arrived: the rest is still on its way, so this connection cannot be reused.
        if (!request.raw.complete) reply.header('connection', 'close');
        throw error;
      }
    },
  );
  app.get(
    '/api/v1/firmware/:id/install-asset',
    { config: { access: 'viewer' }, schema: { tags, summary: 'This release’s install asset', params: IdParams } },
    async (request) => {
      const asset = await install.forImage(request.params.id);
      if (!asset) throw new DomainError('no-install-asset', `image ${request.params.id} has no install asset`);
      return installAssetJson(asset);
    },
  );
  app.delete(
    '/api/v1/firmware/:id/install-asset',
    { config: { access: 'admin' }, schema: { tags, summary: 'Remove this release’s install asset', params: IdParams } },
    async (request, reply) => {
      await install.remove(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );
  app.get(
    '/ota/:platform/install-manifest.json',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: 'ESP Web Tools manifest of the released image’s install asset', params: PlatformParams },
    },
    async (request, reply) => {
      const manifest = await install.manifest(request.params.platform);
      return reply.header('cache-control', 'no-store').send(manifest);
    },
  );
  app.get(
    '/ota/:platform/install/:file',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: 'A file of the released image’s install asset', params: PartParams },
    },
    async (request, reply) => {
      const part = await install.part(request.params.platform, request.params.file);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', part.bytes.length)
        .header('x-MD5', part.md5)
        .header('etag', `"${part.sha256}"`)
        .header('cache-control', 'private, max-age=3600')
        .send(part.bytes);
    },
  );
}
