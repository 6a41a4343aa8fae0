import type { PlatformView } from '../features/views.js';
import { tasmotaSnippet } from './tasmota-snippet.js';

/** One piece of board code for the "Connect a board" page. */
export interface Snippet {
  /** Unique on the page: `snippet-<id>` names its code block. */
  id: string;
  title: string;
  note?: string;
  code: string;
}

export interface SnippetInput {
  serverUrl: string;
  /** The platform's name (its own, or a placeholder when there is none yet). */
  name: string;
  platform: PlatformView | undefined;
  /** A device with a minted key (per-device manifest URL), when one was chosen on the page. */
  device?: { mac: string; key: string } | undefined;
}

/** What every client's snippet needs to know about the platform. */
interface SnippetContext extends SnippetInput {
  esp8266: boolean;
  esp32: boolean;
  auth: 'off' | 'basic' | 'token';
  user: string;
}

/** One client's snippet, or undefined when the platform's chip rules the client out. */
type ClientSnippet = (context: SnippetContext) => Snippet | undefined;

/**
 * The clients the page shows code for, in this order: one line per client. A client's module (or function below)
 * says when it applies; add a client by adding its line.
 */
const CLIENT_SNIPPETS: readonly ClientSnippet[] = [
  (c) => (c.esp8266 ? arduinoSnippet(c, 'esp8266') : undefined),
  (c) => {
    const tasmota = tasmotaSnippet(c);
    return tasmota && { id: 'tasmota', ...tasmota };
  },
  (c) => (c.esp32 ? arduinoSnippet(c, 'esp32') : undefined),
  platformioSnippet,
  (c) => (c.esp32 ? idfSnippet(c) : undefined),
  esphomeSnippet,
  (c) => (c.esp32 ? esp32FotaSnippet(c) : undefined),
];

/**
 * The code a board needs, for the platform's chip only (all of it when the platform accepts any chip), with the
 * device login written in when the platform has one. Secrets are never known here (only their hashes are stored),
 * so they are placeholders the person fills in.
 */
export function boardSnippets(input: SnippetInput): Snippet[] {
  const chip = input.platform?.chip ?? null;
  const context: SnippetContext = {
    ...input,
    esp8266: chip === null || chip === 'esp8266',
    esp32: chip === null || chip.startsWith('esp32'),
    auth: input.platform?.device_auth ?? 'off',
    user: input.platform?.device_user ?? 'fleet',
  };
  return CLIENT_SNIPPETS.flatMap((snippet) => snippet(context) ?? []);
}

function arduinoSnippet(c: SnippetContext, core: 'esp8266' | 'esp32'): Snippet {
  const url = `${c.serverUrl}/update?dev=${encodeURIComponent(c.name)}&ver=`;
  const marker = `__attribute__((used)) static const char ESP_OTA_ID[] = "ESP-OTA:platform=${c.name};version=" FW_VERSION;`;
  const [wifi, header, updater] =
    core === 'esp8266'
      ? ['ESP8266WiFi.h', 'ESP8266httpUpdate.h', 'ESPhttpUpdate']
      : ['WiFi.h', 'HTTPUpdate.h', 'httpUpdate'];
  return {
    id: core,
    title: core === 'esp8266' ? 'ESP8266 (Arduino core 3.x)' : 'ESP32 (arduino-esp32)',
    code: arduinoSketch({ wifi, header, updater, url, marker, login: arduinoLogin(c.auth, updater, c.user) }),
  };
}

function platformioSnippet(c: SnippetContext): Snippet {
  return {
    id: 'platformio',
    title: 'PlatformIO',
    note: 'platformio.ini for the Arduino code above; FW_VERSION comes from the build flags.',
    code: platformioIni(c.name, c.esp8266, c.esp32),
  };
}

function idfSnippet(c: SnippetContext): Snippet {
  return {
    id: 'esp-idf',
    title: 'ESP-IDF (esp_https_ota)',
    note: 'The version is the app descriptor’s (PROJECT_VER); the board compares it after the first kilobyte.',
    code: idfCode(c.serverUrl, c.name, c.platform, c.auth, c.user),
  };
}

/**
 * ESPHome (`update: platform: http_request`, protocol.md §6.1). Its requests name no device, so a device's own
 * manifest URL carries the key minted for it; `?ver=` tells the server the version the YAML builds, which is what
 * lets "nothing to do" keep the device where it is (ESPHome installs any version that differs from its own).
 * Credentials: Basic as `user:secret@` in the URL (ESPHome's HTTP client sends it, and keeps it for the image, whose
 * path is host-relative); a token as `&token=`, which the server copies into the image path.
 */
function esphomeSnippet(c: SnippetContext): Snippet {
  const base = c.auth === 'basic' ? withUserInfo(c.serverUrl, `${c.user}:DEVICE-SECRET`) : c.serverUrl;
  const platform = encodeURIComponent(c.name);
  const path = c.device
    ? `/ota/${platform}/d/${c.device.key}/manifest.json`
    : `/ota/${platform}/d/DEVICE-KEY/manifest.json`;
  const token = c.auth === 'token' ? '&token=DEVICE-TOKEN' : '';
  const chipLine =
    c.esp32 && !c.esp8266 ? 'esp32:\n  board: esp32dev\n' : c.esp8266 && !c.esp32 ? 'esp8266:\n  board: d1_mini\n' : '';
  return {
    id: 'esphome',
    title: 'ESPHome (update: http_request)',
    note: c.device
      ? `For ${c.device.mac} only: its key stands for it, so the allowlist, its pin, rollout stages and the update window apply to it.`
      : 'Each board needs its own manifest URL: mint a key for its MAC below and the URL is filled in. Upload the build’s firmware.ota.bin with the same version.',
    code: `substitutions:
  version: "1.0.0"  # raise for each build; the server reads it from ?ver=

esphome:
  name: my-board
  project:
    name: "esp-ota.${c.name.replace(/[^A-Za-z0-9_-]/g, '_')}"
    version: "\${version}"

${chipLine}http_request:

ota:
  - platform: http_request

update:
  - platform: http_request
    name: Firmware
    source: "${base}${path}?ver=\${version}${token}"
    update_interval: 6h`,
  };
}

/** esp32FOTA (protocol.md §6.2): `?id=` (its eFuse MAC) names the device, so the platform's rules apply to it. */
function esp32FotaSnippet(c: SnippetContext): Snippet {
  const login =
    c.auth === 'basic'
      ? `  // The platform asks for a login: "Basic " + base64("${c.user}:DEVICE-SECRET").
  fota.setExtraHTTPHeader("Authorization", "Basic BASE64-OF-USER-COLON-SECRET");\n`
      : c.auth === 'token'
        ? `  fota.setExtraHTTPHeader("x-ota-token", "DEVICE-TOKEN");\n`
        : '';
  return {
    id: 'esp32fota',
    title: 'esp32FOTA',
    note: 'The firmware type is the platform’s name. esp32FOTA installs only newer versions: a rollback is not installed.',
    code: `#include <WiFi.h>
#include <esp32FOTA.hpp>

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif

esp32FOTA fota("${c.name}", FW_VERSION);

void setupUpdates() {
  fota.setManifestURL("${c.serverUrl}/ota/${encodeURIComponent(c.name)}/esp32fota.json");
  fota.useDeviceId(true);  // ?id=<eFuse MAC>: allowlist, pins and rollout stages apply to this board
${login}}

void checkForUpdate() {
  if (fota.execHTTPcheck()) fota.execOTA();
}`,
  };
}

/** `http://user:secret@host:port`: the form ESPHome's HTTP client turns into a Basic login. */
function withUserInfo(serverUrl: string, userInfo: string): string {
  return serverUrl.replace(/^(https?:\/\/)/, `$1${userInfo}@`);
}

function arduinoLogin(auth: string, updater: string, user: string): string {
  if (auth === 'basic') {
    return `  // The platform asks for a login: its user, and the device secret set on the platform page.
  ${updater}.setAuthorization("${user}", "DEVICE-SECRET");\n`;
  }
  if (auth === 'token') {
    return `  // The platform asks for a device token (set on the platform page).
  ${updater}.setAuthorization("DEVICE-TOKEN");\n`;
  }
  return '';
}

/** The two Arduino cores differ only in their headers and the updater object's name. */
function arduinoSketch(p: {
  wifi: string;
  header: string;
  updater: string;
  url: string;
  marker: string;
  login: string;
}): string {
  return `#include <${p.wifi}>
#include <${p.header}>

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif
${p.marker}

void checkForUpdate() {
  WiFiClient client;
${p.login}  t_httpUpdate_return result = ${p.updater}.update(client, "${p.url}" FW_VERSION, FW_VERSION);
  if (result == HTTP_UPDATE_FAILED) Serial.println(${p.updater}.getLastErrorString());
}`;
}

function platformioIni(name: string, esp8266: boolean, esp32: boolean): string {
  const env = (id: string, platform: string, board: string) => `[env:${id}]
platform = ${platform}
board = ${board}
framework = arduino
build_flags = -DFW_VERSION=\\"1.0.0\\"`;
  const envs: string[] = [];
  const id = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (esp8266) envs.push(env(esp32 ? `${id}_esp8266` : id, 'espressif8266', 'd1_mini'));
  if (esp32) envs.push(env(esp8266 ? `${id}_esp32` : id, 'espressif32', 'esp32dev'));
  return envs.join('\n\n');
}

function idfCode(serverUrl: string, name: string, platform: PlatformView | undefined, auth: string, user: string) {
  const query = [
    ...(platform?.access_mode === 'open' ? [] : ['mac=24:0A:C4:00:11:22']),
    ...(auth === 'token' ? ['token=DEVICE-TOKEN'] : []),
  ];
  const url = `${serverUrl}/ota/${encodeURIComponent(name)}/app.bin${query.length ? `?${query.join('&')}` : ''}`;
  const login =
    auth === 'basic'
      ? `    .username = "${user}",
    .password = "DEVICE-SECRET",
    .auth_type = HTTP_AUTH_TYPE_BASIC,
`
      : '';
  const comment = query.includes('mac=24:0A:C4:00:11:22') ? '  // mac=: this board’s MAC (allowlist)' : '';
  return `#include "esp_https_ota.h"

void check_for_update(void) {
  esp_http_client_config_t http = {
    .url = "${url}",${comment}
${login}    .cert_pem = server_cert_pem_start,   // for https:// only
  };
  esp_https_ota_config_t ota = { .http_config = &http };
  if (esp_https_ota(&ota) == ESP_OK) esp_restart();
}`;
}
