import { PlatformSelect } from '../platform-select.js';
import type { PlatformView } from '../../features/views.js';
import { Layout } from '../layout.js';

/** Ready-to-paste device code with this server's URL and the platform's name filled in. */
export function SetupPage(props: { platforms: PlatformView[]; selected: string; serverUrl: string }) {
  const platform = props.selected || 'MyPlatform';
  const url = `${props.serverUrl}/update?dev=${encodeURIComponent(platform)}&ver=`;
  const marker = `__attribute__((used)) static const char ESP_OTA_ID[] = "ESP-OTA:platform=${platform};version=" FW_VERSION;`;
  const esp8266 = arduinoSketch('ESP8266WiFi.h', 'ESP8266httpUpdate.h', 'ESPhttpUpdate', url, marker);
  const esp32 = arduinoSketch('WiFi.h', 'HTTPUpdate.h', 'httpUpdate', url, marker);
  return (
    <Layout title="Connect a board" path="/setup">
      <form method="get" action="/setup" class="row panel">
        <PlatformSelect names={props.platforms.map((p) => p.name)} selected={props.selected} />
        <button type="submit">Show code</button>
      </form>
      <p>
        Call <code>checkForUpdate()</code> now and then (for example every hour). Raise <code>FW_VERSION</code> for each
        build; the server reads it from the uploaded image.{' '}
        {props.platforms.find((p) => p.name === props.selected)?.access_mode !== 'open' &&
          'Add each board’s MAC address to the platform’s allowlist.'}
      </p>
      <h2>ESP8266 (Arduino core 3.x)</h2>
      <pre>
        <code>{esp8266}</code>
      </pre>
      <h2>ESP32 (arduino-esp32)</h2>
      <pre>
        <code>{esp32}</code>
      </pre>
      <h2>ESP-IDF</h2>
      <p>
        Point <code>esp_https_ota</code> at{' '}
        <code>{`${props.serverUrl}/ota/${encodeURIComponent(platform)}/app.bin`}</code>; the version comes from your
        project's <code>PROJECT_VER</code>.
      </p>
    </Layout>
  );
}

/** The two Arduino cores differ only in their headers and the updater object's name. */
function arduinoSketch(wifiHeader: string, updateHeader: string, updater: string, url: string, marker: string): string {
  return `#include <${wifiHeader}>
#include <${updateHeader}>

#define FW_VERSION "1.0.0"
${marker}

void checkForUpdate() {
  WiFiClient client;
  t_httpUpdate_return result = ${updater}.update(client, "${url}" FW_VERSION, FW_VERSION);
  if (result == HTTP_UPDATE_FAILED) Serial.println(${updater}.getLastErrorString());
}`;
}
