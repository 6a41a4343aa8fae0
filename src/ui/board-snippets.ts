import type { PlatformView } from '../features/views.js';
import { tasmotaSnippet } from './tasmota-snippet.js';

/** One piece of board code for the "Connect a board" page. */
export interface Snippet {
  id: 'esp8266' | 'esp32' | 'platformio' | 'esp-idf' | 'tasmota';
  title: string;
  note?: string;
  code: string;
}

interface SnippetInput {
  serverUrl: string;
  /** The platform's name (its own, or a placeholder when there is none yet). */
  name: string;
  platform: PlatformView | undefined;
}

/**
 * The code a board needs, for the platform's chip only (all of it when the platform accepts any chip), with the
 * device login written in when the platform has one. Secrets are never known here (only their hashes are stored),
 * so they are placeholders the person fills in.
 */
export function boardSnippets({ serverUrl, name, platform }: SnippetInput): Snippet[] {
  const chip = platform?.chip ?? null;
  const esp8266 = chip === null || chip === 'esp8266';
  const esp32 = chip === null || chip.startsWith('esp32');
  const auth = platform?.device_auth ?? 'off';
  const user = platform?.device_user ?? 'fleet';
  const url = `${serverUrl}/update?dev=${encodeURIComponent(name)}&ver=`;
  const marker = `__attribute__((used)) static const char ESP_OTA_ID[] = "ESP-OTA:platform=${name};version=" FW_VERSION;`;
  const arduino = (wifi: string, header: string, updater: string) =>
    arduinoSketch({ wifi, header, updater, url, marker, login: arduinoLogin(auth, updater, user) });
  const snippets: Snippet[] = [];
  if (esp8266) {
    snippets.push({
      id: 'esp8266',
      title: 'ESP8266 (Arduino core 3.x)',
      code: arduino('ESP8266WiFi.h', 'ESP8266httpUpdate.h', 'ESPhttpUpdate'),
    });
  }
  const tasmota = tasmotaSnippet({ serverUrl, name, platform });
  if (tasmota) snippets.push({ id: 'tasmota', ...tasmota });
  if (esp32) {
    snippets.push({
      id: 'esp32',
      title: 'ESP32 (arduino-esp32)',
      code: arduino('WiFi.h', 'HTTPUpdate.h', 'httpUpdate'),
    });
  }
  snippets.push({
    id: 'platformio',
    title: 'PlatformIO',
    note: 'platformio.ini for the Arduino code above; FW_VERSION comes from the build flags.',
    code: platformioIni(name, esp8266, esp32),
  });
  if (esp32) {
    snippets.push({
      id: 'esp-idf',
      title: 'ESP-IDF (esp_https_ota)',
      note: 'The version is the app descriptor’s (PROJECT_VER); the board compares it after the first kilobyte.',
      code: idfCode(serverUrl, name, platform, auth, user),
    });
  }
  return snippets;
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
