import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  statusLine: string;
  /** Header names lower-cased; a repeated header keeps every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  raw: Buffer;
}

/**
 * Sends exactly these bytes over a new TCP connection and reads until the server closes it, as the Arduino clients
 * do (HTTP/1.0, `Connection: close`). Nothing is normalised, so tests can check the answer byte for byte.
 */
export function rawRequest(baseUrl: string, request: string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split).toString('latin1').split('\r\n');
      const headers = new Map<string, string[]>();
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
      }
      resolve({
        status: Number(head[0]!.split(' ')[1]),
        statusLine: head[0]!,
        headers,
        body: raw.subarray(split + 4),
        raw,
      });
    });
    socket.write(request);
  });
}

export interface DeviceFacts {
  mac?: string;
  version?: string;
  freeSpace?: number;
  sketchSize?: number;
  sketchMd5?: string;
  chipSize?: number;
  mode?: string;
  authorization?: string;
}

/** The request ESP8266httpUpdate 3.x sends, header for header (protocol.md §1.1 and its appendix). */
export function esp8266Request(host: string, uri: string, facts: DeviceFacts = {}): string {
  const lines = [
    `GET ${uri} HTTP/1.0`,
    `Host: ${host}`,
    'User-Agent: ESP8266-http-Update',
    ...(facts.authorization ? [`Authorization: ${facts.authorization}`] : []),
    'Connection: close',
    'x-ESP8266-Chip-ID: 15602487',
    `x-ESP8266-STA-MAC: ${facts.mac ?? 'DE:BA:7A:B1:E0:42'}`,
    `x-ESP8266-AP-MAC: ${facts.mac ?? 'DE:BA:7A:B1:E0:42'}`,
    `x-ESP8266-free-space: ${facts.freeSpace ?? 4194304}`,
    `x-ESP8266-sketch-size: ${facts.sketchSize ?? 400000}`,
    `x-ESP8266-sketch-md5: ${facts.sketchMd5 ?? 'a43ad019932b627ab90ee35a94a764ee'}`,
    `x-ESP8266-chip-size: ${facts.chipSize ?? 4194304}`,
    'x-ESP8266-sdk-version: 2.5.0',
    `x-ESP8266-mode: ${facts.mode ?? 'sketch'}`,
    ...(facts.version ? [`x-ESP8266-version: ${facts.version}`] : []),
    'Content-Length: 0',
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/** The request arduino-esp32's HTTPUpdate (master) sends (protocol.md §1.2). */
export function esp32Request(host: string, uri: string, facts: DeviceFacts & { sketchSha256?: string } = {}): string {
  const mac = facts.mac ?? '24:0A:C4:00:11:22';
  const lines = [
    `GET ${uri} HTTP/1.0`,
    `Host: ${host}`,
    'User-Agent: ESP32-http-Update',
    'Connection: close',
    ...(facts.authorization ? [`Authorization: ${facts.authorization}`] : []),
    'Cache-Control: no-cache',
    `x-ESP32-BASE-MAC: ${mac}`,
    `x-ESP32-STA-MAC: ${mac}`,
    `x-ESP32-AP-MAC: ${mac}`,
    `x-ESP32-free-space: ${facts.freeSpace ?? 1966080}`,
    `x-ESP32-sketch-size: ${facts.sketchSize ?? 900000}`,
    `x-ESP32-sketch-md5: ${facts.sketchMd5 ?? '0123456789abcdef0123456789abcdef'}`,
    ...(facts.sketchSha256 ? [`x-ESP32-sketch-sha256: ${facts.sketchSha256}`] : []),
    `x-ESP32-chip-size: ${facts.chipSize ?? 4194304}`,
    'x-ESP32-sdk-version: v4.4.5',
    `x-ESP32-mode: ${facts.mode ?? 'sketch'}`,
    ...(facts.version ? [`x-ESP32-version: ${facts.version}`] : []),
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/** The admin token test servers accept (ESP_OTA_API_TOKEN) and the admin password they create. */
export const TEST_TOKEN = 'test-admin-token-0123456789';
export const TEST_ADMIN_PASSWORD = 'admin-password-123';
export const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

export async function api<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const init: RequestInit = { method, headers: { ...AUTH } };
  if (body instanceof Uint8Array) {
    init.body = new Blob([new Uint8Array(body)]);
    init.headers = { ...AUTH, 'content-type': 'application/octet-stream' };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...AUTH, 'content-type': 'application/json' };
  }
  const response = await fetch(baseUrl + path, init);
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * One HTTP request sent from the given local address (Linux loopback accepts all of 127/8, so a test can be a
 * client the server does not trust), on a connection of its own; resolves with the status and body.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const sent = httpRequest(
      url,
      { method: options.method ?? 'GET', localAddress, agent: false, headers },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}

/** Logs in as the test admin through the login form: the session cookie and the CSRF token its forms carry. */
export async function loginSession(baseUrl: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    redirect: 'manual',
  });
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${baseUrl}/account`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}
