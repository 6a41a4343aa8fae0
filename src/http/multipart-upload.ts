import { PassThrough, type Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { quotedName, whyNotClientText } from '../lib/client-text.js';
import { DomainError } from '../lib/domain-error.js';

/** The file of a multipart upload and the text fields sent before it. */
export interface UploadPart {
  /** The file's bytes; fails with a 400 when the body ends before the file does. */
  file: Readable;
  filename: string | undefined;
  /** A field sent before the file, trimmed; undefined when absent or empty. */
  field(name: string): string | undefined;
}

/**
 * Reads a multipart upload (the API's and the upload page's): the first file and the fields before it, or
 * undefined when the body holds no file. A body without a boundary, with a broken part or cut short, and fields
 * that are not client text, are the client's mistakes (400), never the server's.
 */
export async function readUploadPart(request: FastifyRequest): Promise<UploadPart | undefined> {
  if (!request.isMultipart()) {
    throw new DomainError('unsupported-media-type', 'send the upload as multipart/form-data with the field "file"');
  }
  let part: MultipartFile | undefined;
  try {
    part = await request.file();
  } catch (error) {
    // The plugin's own errors (too many parts, a file over the limit) carry their 4xx status already.
    if (hasClientStatus(error)) throw error;
    throw new DomainError('bad-request', `the multipart body cannot be read: ${(error as Error).message}`);
  }
  if (!part) return undefined;
  const fields = new Map<string, string>();
  for (const [name, value] of Object.entries(part.fields)) {
    if (!value || Array.isArray(value) || value.type !== 'field') continue;
    const text = String(value.value);
    const why = whyNotClientText(text);
    if (why) {
      const field = quotedName(name);
      throw new DomainError(
        'bad-request',
        `${field ? `the multipart field ${field}` : 'a multipart field'} contains ${why}`,
      );
    }
    fields.set(name, text.trim());
  }
  const why = whyNotClientText(part.filename ?? '');
  if (why) throw new DomainError('bad-request', `the file name in the multipart body contains ${why}`);
  return {
    file: refuseIfCutShort(request, part.file),
    filename: part.filename,
    field: (name) => fields.get(name) || undefined,
  };
}

/**
 * The file's bytes, failing with a 400 when the body ends before the file's closing boundary. busboy reports that
 * with an 'error' on the file stream, or by destroying it, possibly before anyone had a chance to read the part (a
 * small body is parsed at once): a stream that already failed never ends, and reading it would wait forever. So
 * once the request has been read to its end (or the file stream has closed), the file must have ended properly.
 */
function refuseIfCutShort(request: FastifyRequest, file: Readable): Readable {
  const guarded = new PassThrough();
  const refuse = () => {
    if (!guarded.destroyed)
      guarded.destroy(new DomainError('bad-request', 'the multipart body ended before the file did (cut short)'));
  };
  // Once the request is parsed, no more bytes will reach the file: its end was pushed, or it never will be.
  const check = () => setImmediate(() => !file.readableEnded && (file.destroyed || !endWasPushed(file)) && refuse());
  file.on('error', refuse);
  file.pipe(guarded);
  if (request.raw.readableEnded || file.destroyed) check();
  else {
    request.raw.once('end', check);
    request.raw.once('close', check);
    file.once('close', check);
  }
  return guarded;
}

/**
 * True once the file's producer has pushed its end, even while bytes are still buffered for the reader ('end' is
 * emitted only after those are read). Node has no public property for this state; `readableEnded` is the later one.
 */
function endWasPushed(stream: Readable): boolean {
  const state = (stream as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return stream.readableEnded || state?.ended === true;
}

function hasClientStatus(error: unknown): boolean {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * Reads a multipart upload of several named files (at most `names.length`), handing each to `onFile` in the order
 * sent; each file is read to its end before the next is parsed. A file field of another name, the same name twice,
 * a broken or cut-short body are the client's mistakes (400). Text fields are ignored.
 */
export async function readUploadFiles(
  request: FastifyRequest,
  names: readonly string[],
  onFile: (name: string, file: Readable) => Promise<void>,
): Promise<void> {
  if (!request.isMultipart()) {
    throw new DomainError('unsupported-media-type', `send the files as multipart/form-data (${names.join(', ')})`);
  }
  const seen = new Set<string>();
  try {
    for await (const part of request.parts({ limits: { files: names.length } })) {
      if (part.type !== 'file') continue;
      // A browser sends a file input left empty as a part without a file name or bytes: nothing was chosen.
      if (part.filename === '') {
        part.file.resume();
        continue;
      }
      const name = part.fieldname;
      if (!names.includes(name) || seen.has(name)) {
        part.file.resume();
        const field = quotedName(name);
        throw new DomainError(
          'bad-request',
          seen.has(name)
            ? `the multipart body sends the file ${field ?? '(unnamed)'} twice`
            : `the multipart body has a file field ${field ?? '(unnamed)'}; expected ${names.join(', ')}`,
        );
      }
      seen.add(name);
      const why = whyNotClientText(part.filename ?? '');
      if (why) throw new DomainError('bad-request', `the file name in the multipart body contains ${why}`);
      try {
        await onFile(name, refuseIfCutShort(request, part.file));
      } catch (error) {
        throw new HandlerFailure(error);
      }
    }
  } catch (error) {
    // What the handler threw is its own answer; only the parser's failures are the body's fault.
    if (error instanceof HandlerFailure) throw error.cause;
    if (error instanceof DomainError || hasClientStatus(error)) throw error;
    throw new DomainError('bad-request', `the multipart body cannot be read: ${(error as Error).message}`);
  }
}

class HandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('the file handler failed');
  }
}
