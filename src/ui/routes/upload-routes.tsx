import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../lib/domain-error.js';
import { UploadPage, type UploadOutcome } from '../pages/upload-page.js';
import { sendPage } from '../render.js';
import { pageAccess, queryOf, versionCounts, type UiServices } from './route-helpers.js';
import { readUploadPart } from '../../http/multipart-upload.js';
import { actorOf } from '../../http/auth.js';

/** The upload page and its plain form (app.js uploads through the REST API instead). */
export function registerUploadRoutes(app: FastifyInstance, ui: UiServices): void {
  app.get('/upload', pageAccess('viewer'), async (request, reply) =>
    sendPage(
      request,
      reply,
      <UploadPage platforms={await ui.reader.platforms()} selected={queryOf(request).platform} />,
    ),
  );
  // The page's plain form (no JavaScript): multipart with the file and optional platform, version, release.
  app.post('/upload', pageAccess('uploader'), async (request, reply) => {
    const platforms = await ui.reader.platforms();
    let outcome: UploadOutcome;
    let status = 201;
    try {
      const part = await readUploadPart(request);
      if (!part) throw new DomainError('bad-request', 'choose a file to upload');
      const field = part.field;
      const result = await ui.firmware.upload(part.file, {
        platform: field('platform'),
        version: field('version'),
        release: field('release') === 'true',
        label: field('label') === 'true',
        force: field('force') === 'true',
        confirmKeyChange: field('confirmKeyChange') === 'true',
        filename: part.filename,
        actor: actorOf(request),
      });
      outcome = {
        ok: true,
        message: `${result.platform.name} ${result.image.version} uploaded${result.released ? ' and released' : ', not released'}.`,
        release: {
          ...result.release,
          released: result.released,
          platform: result.platform.name,
          image: { id: result.image.id, version: result.image.version },
          evidence: result.identity.version.evidence ?? result.identity.version.source ?? 'unknown',
          conflicts: result.identity.conflicts,
          versions: versionCounts(ui, result.platform.id),
        },
        signature: result.signature,
      };
    } catch (error) {
      // As for the API: a refusal before the whole body arrived leaves the rest of it on this connection.
      if (!request.raw.complete) reply.header('connection', 'close');
      if (!(error instanceof DomainError)) throw error;
      status = error.status;
      const details = error.details as { identity?: { version?: { candidates?: { value: string }[] } } } | undefined;
      outcome = {
        ok: false,
        message: error.message,
        candidates: details?.identity?.version?.candidates?.map((c) => c.value),
      };
    }
    return sendPage(request, reply, <UploadPage platforms={platforms} outcome={outcome} />, status);
  });
}
