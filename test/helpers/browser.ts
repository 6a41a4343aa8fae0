import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (browsers cannot be downloaded here). .ci/run installs it and sets ESP_OTA_REQUIRE_BROWSER. */
export const CHROMIUM = process.env.ESP_OTA_CHROMIUM ?? '/usr/bin/chromium';
export const BROWSER_AVAILABLE = existsSync(CHROMIUM);
export const BROWSER_SKIP_REASON = `browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`;

if (!BROWSER_AVAILABLE && process.env.ESP_OTA_REQUIRE_BROWSER) {
  throw new Error(`${BROWSER_SKIP_REASON}; CI must run them`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
