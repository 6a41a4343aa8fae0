import { createReadStream, createWriteStream, openAsBlob, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT } from './exit-codes.js';

/** The REST API as the CLI uses it: one base URL, JSON in and out, errors as messages people can read. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string | undefined,
  ) {}

  /** The server's address without a trailing slash: what URLs the server hands out (manifest paths) are joined to. */
  get server(): string {
    return this.baseUrl.replace(/\/+$/, '');
  }

  get hasToken(): boolean {
    return Boolean(this.token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const response = await this.fetch(path, init);
    return parseAnswer<T>(response.status, await response.text());
  }

  /** Streams a response body (an image) into a file; refuses to leave a partial file behind on errors. */
  async download(path: string, file: string): Promise<{ bytes: number; md5: string | null }> {
    const response = await this.fetch(path, { method: 'GET' });
    if (!response.ok) return parseAnswer(response.status, await response.text());
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as never), count, createWriteStream(file));
    } catch (error) {
      // No half-written image left behind to be flashed by mistake.
      await rm(file, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CliError(`could not write ${file} (${code})`);
    }
    return { bytes, md5: response.headers.get('x-md5') };
  }

  /**
   * Streams a file as the request body, reporting bytes sent. Through node:http rather than fetch: a server that
   * refuses early (413 over the upload limit) answers and closes while the body is still being sent, and the answer
   * must win over the write error (EPIPE) that follows it.
   */
  async upload<T>(path: string, file: string, onProgress?: (sent: number, total: number) => void): Promise<T> {
    let total: number;
    try {
      const info = statSync(file);
      if (!info.isFile()) throw new CliError(`${file} is not a file`, EXIT.usage);
      total = info.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(code === 'ENOENT' ? `there is no file ${file}` : `cannot read ${file} (${code})`, EXIT.usage);
    }
    const separator = path.includes('?') ? '&' : '?';
    const url = new URL(`${path}${separator}filename=${encodeURIComponent(basename(file))}`, this.baseUrl);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(total),
          ...this.authorization(),
        },
      });
      let answered = false;
      request.on('response', (response: IncomingMessage) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        // After an answer, a write error only means the server stopped reading: the answer says why.
        if (!answered) reject(this.unreachable(error.code ?? error.message));
      });
      let sent = 0;
      const source = createReadStream(file);
      source.on('error', (error: NodeJS.ErrnoException) => {
        request.destroy();
        reject(new CliError(`cannot read ${file} (${error.code ?? error.message})`, EXIT.usage));
      });
      source.on('data', (chunk) => {
        sent += chunk.length;
        onProgress?.(sent, total);
      });
      source.pipe(request);
    });
    return parseAnswer<T>(answer.status, answer.text);
  }

  /** Sends files as multipart/form-data fields (read from disk as they are sent); a missing file is a usage error. */
  async uploadFiles<T>(path: string, files: Record<string, string>): Promise<T> {
    const form = new FormData();
    for (const [field, file] of Object.entries(files)) {
      let blob: Blob;
      try {
        if (!statSync(file).isFile()) throw new CliError(`${file} is not a file`, EXIT.usage);
        blob = await openAsBlob(file);
      } catch (error) {
        if (error instanceof CliError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        throw new CliError(
          code === 'ENOENT' ? `there is no file ${file}` : `cannot read ${file} (${code})`,
          EXIT.usage,
        );
      }
      form.append(field, blob, basename(file));
    }
    const response = await this.fetch(path, { method: 'POST', body: form });
    return parseAnswer<T>(response.status, await response.text());
  }

  private authorization(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string> | undefined), ...this.authorization() };
    try {
      return await fetch(new URL(path, this.baseUrl), { ...init, headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw this.unreachable(cause?.code ?? cause?.message ?? (error as Error).message);
    }
  }

  private unreachable(cause: string): CliError {
    return new CliError(
      `cannot reach the server at ${this.baseUrl} (${cause}); is it running? (--server or ESP_OTA_URL)`,
      EXIT.unreachable,
    );
  }
}

function parseAnswer<T>(status: number, text: string): T {
  let json: unknown;
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // A proxy's HTML page or a server that is not esp-ota: say so instead of a JSON parse error.
    if (status >= 200 && status < 300) throw new CliError('the server answered with something other than JSON');
    json = undefined;
  }
  if (status < 200 || status >= 300) {
    const body = json as { message?: string; error?: string } | undefined;
    throw new ApiError(status, body?.error ?? 'error', body?.message ?? `HTTP ${status}`, json);
  }
  return json as T;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}
