import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { findBadText, quotedName } from '../lib/client-text.js';
import { DomainError } from '../lib/domain-error.js';

/**
 * The boundary for what clients send through the framework. Every path parameter, query parameter and parsed body
 * field is client text (lib/client-text.ts) before any route sees it, so a NUL or an unpaired surrogate is a 400
 * with a reason instead of a database error or a row nobody can address again; and every number in the path and
 * query is finite. Routes without a schema read plain text: there each query parameter comes once, and a body must
 * be flat text fields, whatever content type carried it.
 *
 * Raw and multipart uploads are streams, not parsed here; their fields are checked where they are read
 * (http/multipart-upload.ts). The device routes are answered before the framework and check their own
 * (features/update-check/esp-request.ts).
 */
export function registerClientInputChecks(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema;
    const problem =
      findBadText(request.params, 'the path') ??
      findBadText(request.query, 'the query') ??
      (isParsedData(request.body) ? findBadText(request.body, 'the body') : undefined) ??
      (schema?.querystring === undefined ? repeatedParameter(request.query) : undefined) ??
      (schema?.body === undefined ? notFormFields(request.body) : undefined);
    if (problem) throw new DomainError('bad-request', problem);
  });
  // Ajv coerces "Infinity" or "1e400" in a query or path to a number that passes every integer and range check (it
  // tests ranges only on finite numbers); no column holds one.
  app.addHook('preHandler', async (request) => {
    const name = nonFiniteField(request.query) ?? nonFiniteField(request.params);
    if (name !== undefined)
      throw new DomainError('bad-request', `${quotedName(name) ?? 'a parameter'} is not a finite number`);
  });
}

function nonFiniteField(values: unknown): string | undefined {
  for (const [name, value] of Object.entries(values ?? {})) {
    if (typeof value === 'number' && !Number.isFinite(value)) return name;
  }
  return undefined;
}

/** Parsed JSON or form data, as opposed to an upload stream. */
function isParsedData(body: unknown): boolean {
  return body !== undefined && !(body instanceof Readable);
}

/** `?mac=a&mac=b` arrives as a list, where a route without a query schema reads one text. */
function repeatedParameter(query: unknown): string | undefined {
  for (const [name, value] of Object.entries(query ?? {})) {
    if (Array.isArray(value)) return `${quotedName(name) ?? 'a parameter'} is given more than once in the query`;
  }
  return undefined;
}

/**
 * A body for a route without a body schema: nothing, an upload stream, text (the route checks its media type), or
 * an object of text fields. JSON of any other shape would reach code that reads form fields.
 */
function notFormFields(body: unknown): string | undefined {
  if (!isParsedData(body) || typeof body === 'string') return undefined;
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) && Object.values(body).every(isText);
  return fields ? undefined : 'the body must be form fields (name=value text) or a file';
}

function isText(value: unknown): value is string {
  return typeof value === 'string';
}
