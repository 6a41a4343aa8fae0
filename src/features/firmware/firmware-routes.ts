import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { readUploadPart } from '../../http/multipart-upload.js';
import { RowId } from '../../http/route-schemas.js';
import { DomainError } from '../../lib/domain-error.js';
import { imageJson, platformJson } from '../api-views.js';
import type { Metrics } from '../metrics/metrics.js';
import type { FleetReader } from '../fleet/fleet-reader.js';
import { imageSignatureJson } from '../signing/signing-views.js';
import type { FirmwareService, UploadInput, UploadResult } from './firmware-service.js';
import { actorOf } from '../../http/auth.js';

const UploadQuery = Type.Object({
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  version: Type.Optional(Type.String({ maxLength: 64 })),
  release: Type.Optional(Type.Boolean({ description: 'Release now, whatever the version: a person’s release' })),
  label: Type.Optional(
    Type.Boolean({ description: 'The given version is an opaque label on purpose (it need not be a version)' }),
  ),
  force: Type.Optional(
    Type.Boolean({ description: 'Keep the image although its app descriptor names another project' }),
  ),
  kind: Type.Optional(Type.Union([Type.Literal('app'), Type.Literal('filesystem')])),
  confirmKeyChange: Type.Optional(
    Type.Boolean({ description: 'Signed by another key than the released image, and that is intended' }),
  ),
  filename: Type.Optional(Type.String({ maxLength: 255 })),
});
const IdParams = Type.Object({ id: RowId() });
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

/** Reads the upload from a raw `application/octet-stream` body or the multipart field `file`. */
async function uploadSource(
  request: FastifyRequest,
  query: Static<typeof UploadQuery>,
): Promise<{ stream: Readable; input: Omit<UploadInput, 'actor'> }> {
  const input: Omit<UploadInput, 'actor'> = { ...query };
  if (request.isMultipart()) {
    const part = await readUploadPart(request);
    if (!part) throw new DomainError('bad-request', 'the multipart body has no file field');
    const field = part.field;
    input.platform ??= field('platform');
    input.version ??= field('version');
    const flag = (name: string) => (field(name) === 'true' || field(name) === 'on' ? true : undefined);
    input.release ??= flag('release');
    input.label ??= flag('label');
    input.force ??= flag('force');
    input.confirmKeyChange ??= flag('confirmKeyChange');
    input.filename ??= part.filename;
    return { stream: part.file, input };
  }
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/octet-stream')) {
    throw new DomainError(
      'unsupported-media-type',
      'send the firmware as application/octet-stream or multipart/form-data (field "file")',
    );
  }
  return { stream: request.body as Readable, input };
}

export function uploadResultJson(result: UploadResult) {
  return {
    image: imageJson(result.image, result.platform),
    platform: platformJson(result.platform),
    released: result.released,
    /** Why it was released or kept: a machine code and a sentence (README "Release policy"). */
    release: result.release,
    analysis: result.analysis,
    identity: result.identity,
    /** The signature against the platform's keys: unsigned, verified, signed (no keys to check) or invalid. */
    signature: imageSignatureJson(JSON.stringify(result.signature)),
  };
}

export function registerFirmwareRoutes(
  server: FastifyInstance,
  firmware: FirmwareService,
  reader: FleetReader,
  uploadLimit: number,
  metrics: Pick<Metrics, 'upload'>,
): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['firmware'];
  const upload = async (request: FastifyRequest, reply: FastifyReply, query: Static<typeof UploadQuery>) => {
    const declared = Number(request.headers['content-length']);
    if (declared > uploadLimit + 64 * 1024) {
      reply.header('connection', 'close');
      metrics.upload('upload-too-large');
      throw new DomainError('upload-too-large', `the file is larger than the upload limit (${uploadLimit} bytes)`);
    }
    try {
      const { stream, input } = await uploadSource(request, query);
      const result = await firmware.upload(stream, { ...input, actor: actorOf(request) });
      metrics.upload('accepted');
      return reply.code(201).send(uploadResultJson(result));
    } catch (error) {
      metrics.upload(error instanceof DomainError ? error.code : 'error');
      // Refused before the whole body arrived (too large, storage full…): the rest of it is still on its way, so
      // this connection cannot carry another request; the client must not reuse it.
      if (!request.raw.complete) reply.header('connection', 'close');
      throw error;
    }
  };

  app.post(
    '/api/v1/firmware',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: 'Upload firmware; platform and version are read from the image unless given',
        querystring: UploadQuery,
      },
    },
    (request, reply) => upload(request, reply, request.query),
  );
  app.post(
    '/api/v1/platforms/:name/firmware',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Upload firmware to a platform', params: NameParams, querystring: UploadQuery },
    },
    (request, reply) => upload(request, reply, { ...request.query, platform: request.params.name }),
  );
  app.get(
    '/api/v1/platforms/:name/firmware',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: 'List a platform’s images, newest upload first', params: NameParams },
    },
    async (request) => {
      const { platform, images } = await reader.platformImages(request.params.name);
      return { platform: platformJson(platform), images: images.map((i) => imageJson(i, platform)) };
    },
  );
  app.get(
    '/api/v1/firmware/:id',
    { config: { access: 'viewer' }, schema: { tags, summary: 'An image with its analysis', params: IdParams } },
    async (request) => {
      const image = await firmware.get(request.params.id);
      const platform = (await reader.platforms()).find((p) => p.id === image.platform_id);
      return { ...imageJson(image, platform), analysis: JSON.parse(image.analysis) as unknown };
    },
  );
  app.get(
    '/api/v1/firmware/:id/download',
    { config: { access: 'viewer' }, schema: { tags, summary: 'Download an image', params: IdParams } },
    async (request, reply) => {
      const image = await firmware.get(request.params.id);
      const safe = `${image.version}`.replace(/[^A-Za-z0-9._-]+/g, '_');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="firmware-${safe}.bin"`)
        .header('x-MD5', image.md5)
        .send(await firmware.bytes(image));
    },
  );
  app.post(
    '/api/v1/firmware/:id/release',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: 'Release (or roll back to) this image',
        params: IdParams,
        querystring: Type.Object({
          confirmKeyChange: Type.Optional(
            Type.Boolean({ description: 'Signed by another key than the released image, and that is intended' }),
          ),
        }),
      },
    },
    async (request) =>
      platformJson(
        await firmware.release(request.params.id, actorOf(request), {
          confirmKeyChange: request.query.confirmKeyChange,
        }),
      ),
  );
  app.delete(
    '/api/v1/firmware/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Delete a kept image (not the released one)', params: IdParams },
    },
    async (request, reply) => {
      await firmware.delete(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );
}
