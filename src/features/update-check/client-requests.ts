import type { IncomingMessage } from 'node:http';
import { formatMac } from '../../lib/mac.js';
import { DEVICE_KEY_PATTERN } from '../device-keys/device-key.js';
import { macFromEsp32FotaId, type EsphomeLinks } from './client-manifests.js';
import { MalformedRequestError, type EspRequest } from './esp-request.js';
import type { UpdateCheckService } from './update-check-service.js';

/** The routes of clients with manifests (protocol.md §6.1, §6.2): ESPHome's manifest and image, esp32FOTA's. */
export type ClientRouteKind = 'esphome-manifest' | 'esphome-image' | 'esp32fota-manifest';

/** A manifest client's request as its path names it: which route, the platform, and a device key if any. */
export interface ClientRoute {
  kind: ClientRouteKind;
  platform: string;
  key: string | undefined;
}

/**
 * The device a manifest client's request stands for: the MAC its device key was minted for (ESPHome), or the one
 * esp32FOTA's `?id=` encodes; then the same facts the Arduino route decides on. ESPHome says its version only through
 * `?ver=` in its URLs (the YAML we hand out puts it there): with it, the decision is the Arduino route's; without it,
 * the stable URL's ("always the target image"). esp32FOTA compares versions itself, so it is the stable URL's too.
 */
export async function clientRequest(
  service: UpdateCheckService,
  client: ClientRoute,
  parsed: EspRequest,
  query: Record<string, string | string[] | undefined>,
): Promise<EspRequest | { status: 400 | 404; reason: string; message: string }> {
  let { mac } = parsed;
  if (client.key !== undefined) {
    if (!DEVICE_KEY_PATTERN.test(client.key))
      return {
        status: 400,
        reason: 'bad-request',
        message: 'the device key in the path is not a key this server mints',
      };
    const platform = await service.platformView(client.platform);
    // An unknown platform is the decision's 404, in its words.
    if (platform) {
      mac = platform.deviceKeys.get(client.key);
      if (!mac)
        return { status: 404, reason: 'unknown-device-key', message: `"${platform.name}" has no such device key` };
    }
  }
  if (client.kind === 'esp32fota-manifest') {
    const id = query.id;
    if (Array.isArray(id)) throw new MalformedRequestError('id= was given more than once');
    if (id !== undefined && id !== '') {
      mac = macFromEsp32FotaId(id);
      if (!mac)
        throw new MalformedRequestError('id= must be the eFuse MAC as a decimal number (esp32FOTA use_device_id)');
    }
    // esp32FOTA runs on ESP32s only: an ESP8266 platform's image is refused as the wrong chip family.
    return { ...parsed, mac, family: 'esp32', client: 'direct', mode: 'sketch' };
  }
  const versioned = parsed.version !== undefined;
  return { ...parsed, mac, client: versioned ? 'arduino' : 'direct', mode: 'sketch' };
}

/**
 * Where a manifest sends its client for the image. ESPHome: host-relative, so the manifest URL's scheme, host and
 * `user:pass@` carry over; a device key's image route with the same `ver=` and `token=` (answered by the same
 * decision), or the platform's stable URL (with the same `mac=` and `token=`). esp32FOTA needs an absolute URL.
 * A string: why no URL can be made.
 */
export function clientLinks(
  client: ClientRoute,
  device: EspRequest,
  query: Record<string, string | string[] | undefined>,
  request: IncomingMessage,
  publicUrl: string | undefined,
): (EsphomeLinks & { absoluteImageUrl?: string }) | string {
  const platform = encodeURIComponent(device.platform);
  const token = typeof query.token === 'string' && query.token.trim() ? query.token.trim() : undefined;
  const base = serverBase(request, publicUrl);
  const releaseUrl = base ? `${base}/platforms/${platform}` : undefined;
  if (client.kind === 'esp32fota-manifest') {
    if (!base) return 'the Host header is not a host name, so no image URL can be made (set publicUrl)';
    const search = new URLSearchParams();
    if (device.mac) search.set('mac', formatMac(device.mac));
    if (token) search.set('token', token);
    const suffix = search.size ? `?${search}` : '';
    return { imagePath: '', releaseUrl, absoluteImageUrl: `${base}/ota/${platform}/app.bin${suffix}` };
  }
  const search = new URLSearchParams();
  if (client.key !== undefined) {
    if (device.version !== undefined) search.set('ver', device.version);
  } else if (device.mac) {
    search.set('mac', formatMac(device.mac));
  }
  if (token) search.set('token', token);
  const suffix = search.size ? `?${search}` : '';
  const imagePath =
    client.key !== undefined
      ? `/ota/${platform}/d/${client.key}/firmware.bin${suffix}`
      : `/ota/${platform}/app.bin${suffix}`;
  return { imagePath, releaseUrl };
}

/** Host names and ports only (a device could send anything in Host; this becomes part of a URL we hand out). */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The configured public URL, else the scheme and Host this request came in with; undefined when Host is unusable. */
function serverBase(request: IncomingMessage, publicUrl: string | undefined): string | undefined {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = request.headers.host;
  if (!host || host.length > 260 || !HOST_HEADER.test(host)) return undefined;
  const secure = (request.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? 'https' : 'http'}://${host}`;
}
