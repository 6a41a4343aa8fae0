import type { PlatformView } from '../features/views.js';

/** What the Tasmota snippet needs: where the server is and which platform. */
export interface TasmotaSnippetInput {
  serverUrl: string;
  /** The platform's name (its own, or a placeholder when there is none yet). */
  name: string;
  platform: Pick<PlatformView, 'chip' | 'device_auth' | 'device_user' | 'minimal_platform_id'> | undefined;
}

/**
 * The Tasmota console commands that point a board at this platform (docs/clients.md "Tasmota"): `OtaUrl` with the
 * `.bin.gz` name (Tasmota's own default, and what its ESP8266 core ≥ 2.7 installs), then `Upgrade 1`. Only for
 * platforms an ESP8266 can be on: the ESP32 builds of Tasmota use their own updater (protocol.md §6.3).
 * The device login goes into the URL (ESP8266HTTPClient turns `user:pass@` into Basic auth; a token rides in
 * `?token=`); secrets are placeholders, as only their hashes are stored.
 */
export function tasmotaSnippet({
  serverUrl,
  name,
  platform,
}: TasmotaSnippetInput): { title: string; note: string; code: string } | undefined {
  const chip = platform?.chip ?? null;
  if (chip !== null && chip !== 'esp8266') return undefined;
  const base = new URL(`/tasmota/${encodeURIComponent(name)}/tasmota.bin.gz`, serverUrl);
  const auth = platform?.device_auth ?? 'off';
  if (auth === 'basic') {
    base.username = encodeURIComponent(platform?.device_user ?? 'fleet');
    base.password = 'DEVICE-SECRET';
  } else if (auth === 'token') {
    base.search = '?token=DEVICE-TOKEN';
  }
  const minimal = platform?.minimal_platform_id
    ? 'A board without room for the full image fetches tasmota-minimal.bin.gz first (the paired minimal platform), then the full one.'
    : 'Pair a platform holding the minimal build (minimalPlatform) for boards without room for the full image.';
  return {
    title: 'Tasmota (OtaUrl)',
    note: `Paste into the Tasmota console. The board reports its version as “14.3.0(tasmota)”; upload each build with that version. ${minimal}`,
    code: `Backlog OtaUrl ${base.toString()}; Upgrade 1`,
  };
}
