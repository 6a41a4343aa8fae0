import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';

/** The REST API as the CLI uses it: one base URL, JSON in and out, errors as messages people can read. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    return this.send<T>(path, init);
  }

  /** Streams a file as the request body, reporting bytes sent. */
  async upload<T>(path: string, file: string, onProgress?: (sent: number, total: number) => void): Promise<T> {
    const total = statSync(file).size;
    let sent = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        onProgress?.(sent, total);
        callback(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(file).pipe(meter)) as ReadableStream;
    const separator = path.includes('?') ? '&' : '?';
    return this.send<T>(`${path}${separator}filename=${encodeURIComponent(basename(file))}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
      duplex: 'half',
    } as RequestInit);
  }

  private async send<T>(path: string, init: RequestInit): Promise<T> {
    let response: Response;
    const headers = {
      ...(init.headers as Record<string, string> | undefined),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    };
    try {
      response = await fetch(new URL(path, this.baseUrl), { ...init, headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(
        `cannot reach the server at ${this.baseUrl} (${cause}); is it running? (--server or ESP_OTA_URL)`,
      );
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const body = json as { message?: string; error?: string } | undefined;
      throw new ApiError(response.status, body?.error ?? 'error', body?.message ?? `HTTP ${response.status}`, json);
    }
    return json as T;
  }
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
