import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../src/firmware-image/index.js';
import { identify } from '../src/firmware-image/identify.js';
import {
  CORPUS_AVAILABLE,
  CORPUS_SKIP_REASON,
  readFirmware,
  readManifest,
  type ManifestRow,
} from './helpers/firmware-corpus.js';

const EXPECTED_REJECTION: Record<string, string> = {
  'merged-factory': 'merged-image',
  bootloader: 'bootloader',
  'partition-table': 'partition-table',
  'ota-data': 'ota-data',
  'git-lfs-pointer': 'git-lfs-pointer',
  empty: 'empty',
  'esp8266-v2-app': 'esp8266-v2',
};

const rows = CORPUS_AVAILABLE ? readManifest() : [];

describe.skipIf(!CORPUS_AVAILABLE)(
  `real firmware corpus (MANIFEST.tsv) ${CORPUS_AVAILABLE ? '' : `— skipped: ${CORPUS_SKIP_REASON}`}`,
  () => {
    it('has the files the manifest lists, byte for byte', () => {
      expect(rows.length).toBeGreaterThan(20);
      for (const row of rows) {
        const bytes = readFirmware(row.file);
        expect(bytes.length, row.file).toBe(row.bytes);
        expect(createHash('sha256').update(bytes).digest('hex'), row.file).toBe(row.sha256);
      }
    });

    it.each(rows.map((row) => [row.file, row] as const))('classifies %s', (_file, row: ManifestRow) => {
      const analysis = analyzeImage(readFirmware(row.file));
      if (row.what_it_is === 'esp8266-app') {
        expect(analysis).toMatchObject({ kind: 'app', family: 'esp8266', chip: 'esp8266', layout: 'arduino' });
        return;
      }
      if (row.what_it_is.endsWith('-app') && row.what_it_is.startsWith('esp32')) {
        expect(analysis).toMatchObject({ kind: 'app', family: 'esp32', chip: row.chip, chipId: Number(row.chip_id) });
        if (analysis.kind !== 'app' || analysis.family !== 'esp32') return;
        expect(analysis.descriptor).toMatchObject({
          version: row.app_version,
          projectName: row.project_name,
          date: row.date,
          time: row.time,
        });
        // The manifest cuts idf_ver at 31 characters, as the 32-byte field does.
        expect(analysis.descriptor.idfVersion.slice(0, 31)).toBe(row.idf_ver);
        expect(analysis.checks.every((check) => check.ok)).toBe(true);
        expect(analysis.imageLength).toBeLessThanOrEqual(analysis.size);
        return;
      }
      if (row.what_it_is === 'filesystem') {
        expect(analysis).toMatchObject({
          kind: 'filesystem',
          fsType: row.file.includes('littlefs') ? 'littlefs' : 'spiffs',
        });
        return;
      }
      const code = EXPECTED_REJECTION[row.what_it_is];
      expect(code, `manifest kind ${row.what_it_is} has an expectation`).toBeDefined();
      expect(analysis).toMatchObject({ kind: 'rejected', code });
      if (analysis.kind === 'rejected') expect(analysis.reason.length).toBeGreaterThan(20);
    });

    it('names where the app starts in a merged image and what it is', () => {
      for (const row of rows.filter((r) => r.what_it_is === 'merged-factory')) {
        const analysis = analyzeImage(readFirmware(row.file));
        expect(analysis.kind).toBe('rejected');
        if (analysis.kind !== 'rejected') continue;
        expect(analysis.reason).toContain('the app starts at 0x10000');
        expect(analysis.embeddedApp?.offset).toBe(0x10000);
        const app = analysis.embeddedApp?.image;
        expect(app?.family === 'esp32' && app.descriptor).toMatchObject({
          version: row.app_version,
          projectName: row.project_name,
        });
      }
    });

    it('reports the signature block after the signed image', () => {
      const analysis = analyzeImage(readFirmware('espressif__esptool__hello-world-signed.bin'));
      expect(analysis).toMatchObject({
        kind: 'app',
        imageLength: 196528,
        tail: { offset: 196528, length: 80, kind: 'signature' },
      });
    });

    it('verifies the CRC words of newer Arduino ESP8266 builds and accepts older builds without them', () => {
      const withCrc = analyzeImage(readFirmware('HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin'));
      expect(withCrc).toMatchObject({ kind: 'app', crc: { stored: 0xed26d4b0, computed: 0xed26d4b0 } });
      const withoutCrc = analyzeImage(readFirmware('1638NimtE__Tasmota-thermostate__firmware.bin'));
      expect(withoutCrc).toMatchObject({ kind: 'app', crc: undefined, imageLength: 723344 });
    });
  },
);

describe.skipIf(!CORPUS_AVAILABLE)('identity of real images', () => {
  const esp32Apps = rows.filter((r) => r.what_it_is.startsWith('esp32') && r.what_it_is.endsWith('-app'));

  it('takes platform and version from the app descriptor of ESP-IDF apps', () => {
    const idfApps = esp32Apps.filter((r) => !r.project_name.includes('arduino-lib-builder'));
    expect(idfApps.length).toBeGreaterThanOrEqual(6);
    for (const row of idfApps) {
      const bytes = readFirmware(row.file);
      const identity = identify(bytes, analyzeImage(bytes));
      expect(identity.platform, row.file).toMatchObject({
        status: 'found',
        value: row.project_name,
        source: 'descriptor',
      });
      expect(identity.version, row.file).toMatchObject({
        status: 'found',
        value: row.app_version,
        source: 'descriptor',
      });
    }
  });

  it('never takes an Arduino-ESP32 version from the core descriptor or the IDF version', () => {
    const arduinoApps = esp32Apps.filter((r) => r.project_name.includes('arduino-lib-builder'));
    expect(arduinoApps.length).toBeGreaterThanOrEqual(4);
    for (const row of arduinoApps) {
      const bytes = readFirmware(row.file);
      const identity = identify(bytes, analyzeImage(bytes));
      expect(identity.version.status, row.file).not.toBe('found');
      expect(identity.platform.value, row.file).toBeUndefined();
      for (const candidate of identity.version.candidates) {
        expect(
          row.idf_ver.includes(candidate.value) || row.app_version.includes(candidate.value),
          `${row.file}: ${candidate.value}`,
        ).toBe(false);
      }
    }
  });

  it('finds the OpenDTU version among the candidates instead of the IDF version the naive regex takes', () => {
    const bytes = readFirmware('eu-gh__OpenDTU-OnBattery-FwBuilds__firmware.bin');
    const identity = identify(bytes, analyzeImage(bytes));
    expect(identity.version.status).toBe('ambiguous');
    expect(identity.version.candidates.map((c) => c.value)).toEqual(['v23.9.18-21-g66af0e6']);
  });

  it('reads WLED and its pre-release version when WLED is a known platform, despite other known names', () => {
    const bytes = readFirmware('wled__WLED-WebInstaller__WLED_0.15.0-b2_ESP8266.bin');
    const identity = identify(bytes, analyzeImage(bytes), { platforms: ['light', 'chase', 'WLED', 'AirPatrol'] });
    expect(identity.platform).toMatchObject({ status: 'found', value: 'WLED' });
    expect(identity.version).toMatchObject({ status: 'found', value: 'v0.15.0-b2', source: 'next-to-platform' });
  });

  it('asks when an ESP8266 sketch holds several unrelated versions', () => {
    const bytes = readFirmware('HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin');
    const identity = identify(bytes, analyzeImage(bytes));
    expect(identity.version.status).toBe('ambiguous');
    expect(identity.version.candidates.map((c) => c.value)).toEqual(expect.arrayContaining(['v1.0.0', 'v2.0.17']));
  });

  it('does not mistake the ESP8266 SDK version for the sketch version', () => {
    const bytes = readFirmware('1638NimtE__Tasmota-thermostate__firmware.bin');
    const identity = identify(bytes, analyzeImage(bytes), { platforms: ['Tasmota'] });
    expect(identity.version).toMatchObject({ status: 'missing', candidates: [] });
  });
});
