import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeFactoryImage, analyzeInstallParts, bootloaderOffset, installsApp } from './install-image.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, readFirmware } from '../../test/helpers/firmware-corpus.js';

const LEDLAMP_FACTORY = 'tominik83__ledlamp__firmware.bin';
const LEDLAMP_OTA = 'tominik83__ledlamp__firmware.ota.bin';
const HOMIO_FACTORY = 'kelwin13__homio-updates__firmware.factory-v1.0.12.bin';
const HOMIO_APP = 'kelwin13__homio-updates__firmware-v1.0.12.bin';
const SMARTHOME = (part: string) => `00xxxxx__SmartHome_Esp32S3_CH32V307__${part}.bin`;

describe.skipIf(!CORPUS_AVAILABLE)(
  `install images from real builds${CORPUS_AVAILABLE ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    it('reads an ESPHome factory image for classic ESP32: bootloader at 0x1000, ota_0 at 0x10000 holding the OTA image', () => {
      const layout = analyzeFactoryImage(readFirmware(LEDLAMP_FACTORY));
      if (layout.kind !== 'install') throw new Error(layout.reason);
      expect(layout).toMatchObject({ chip: 'esp32', bootloaderOffset: 0x1000 });
      expect(layout.appPartition).toMatchObject({ label: 'app0', offset: 0x10000, subtype: 0x10 });
      expect(layout.app.descriptor).toMatchObject({ projectName: 'ledlamp', version: '2024.10.2' });
      expect(layout.parts.map((p) => [p.role, p.offset, p.bytes.length])).toEqual([['factory', 0, 1028496]]);
      expect(installsApp(layout, readFirmware(LEDLAMP_OTA))).toBe(true);
      expect(installsApp(layout, readFirmware(HOMIO_APP))).toBe(false);
    });

    it('reads a merged ESP32-S3 image (esptool merge_bin): bootloader at 0, the factory app at 0x10000', () => {
      const layout = analyzeFactoryImage(readFirmware('14790897__usb_webcam_esp32s3__firmware.bin'));
      if (layout.kind !== 'install') throw new Error(layout.reason);
      expect(layout).toMatchObject({
        chip: 'esp32s3',
        bootloaderOffset: 0,
        appPartition: { label: 'factory', offset: 0x10000 },
      });
      expect(layout.app.descriptor.projectName).toBe('usb_webcam');
    });

    it('refuses the empty factory image homio-updates published', () => {
      expect(analyzeFactoryImage(readFirmware(HOMIO_FACTORY))).toEqual({
        kind: 'rejected',
        reason: 'the file is empty (0 bytes): there is no firmware in it',
      });
    });

    it('refuses an application image offered as a factory image', () => {
      const result = analyzeFactoryImage(readFirmware(HOMIO_APP));
      expect(result).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('not a factory image') });
    });

    it('places an ESP-IDF S3 build’s three parts: bootloader at 0, table at 0x8000, app in the factory partition', () => {
      const files = {
        bootloader: readFirmware(SMARTHOME('bootloader')),
        partitionTable: readFirmware(SMARTHOME('partition-table')),
        app: readFirmware(SMARTHOME('smartHome')),
      };
      const layout = analyzeInstallParts(files);
      if (layout.kind !== 'install') throw new Error(layout.reason);
      expect(layout.chip).toBe('esp32s3');
      expect(layout.appPartition).toMatchObject({ label: 'factory', offset: 0x20000 });
      expect(layout.parts.map((p) => [p.role, p.offset, p.bytes.length])).toEqual([
        ['bootloader', 0, 21024],
        ['partition-table', 0x8000, 3072],
        ['app', 0x20000, 1085920],
      ]);
      expect(installsApp(layout, files.app)).toBe(true);
    });

    it('refuses parts given in the wrong slots or for different chips', () => {
      const bootloader = readFirmware(SMARTHOME('bootloader'));
      const partitionTable = readFirmware(SMARTHOME('partition-table'));
      const app = readFirmware(SMARTHOME('smartHome'));
      expect(analyzeInstallParts({ bootloader: app, partitionTable, app })).toMatchObject({
        reason: expect.stringContaining('application image, not a bootloader'),
      });
      expect(analyzeInstallParts({ bootloader, partitionTable: bootloader, app })).toMatchObject({
        reason: expect.stringContaining('not an ESP-IDF partition table'),
      });
      // A classic-ESP32 app behind an S3 bootloader.
      const esp32App = readFirmware(LEDLAMP_OTA);
      expect(analyzeInstallParts({ bootloader, partitionTable, app: esp32App })).toMatchObject({
        reason: 'the app part is built for ESP32, but the bootloader for ESP32-S3',
      });
      expect(
        analyzeInstallParts({ bootloader, partitionTable, app: readFirmware(SMARTHOME('ota_data_initial')) }),
      ).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('the app part is not a valid application') });
    });
  },
);

describe('bootloader offsets (esptool IDF_TARGET_BOOTLOADER_OFFSET)', () => {
  it.each([
    ['esp32', 0x1000],
    ['esp32s2', 0x1000],
    ['esp32s3', 0],
    ['esp32c3', 0],
    ['esp32c6', 0],
    ['esp32h2', 0],
    ['esp32p4', 0x2000],
    ['esp32c5', 0x2000],
  ] as const)('%s at %i', (chip, offset) => {
    expect(bootloaderOffset(chip)).toBe(offset);
  });
});

describe('hostile bytes', () => {
  it('never throws and never accepts random bytes as an install image', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 0x9000 }), fc.uint8Array({ maxLength: 4096 }), (a, b) => {
        expect(analyzeFactoryImage(a).kind).toBe('rejected');
        expect(analyzeInstallParts({ bootloader: a, partitionTable: b, app: a }).kind).toBe('rejected');
      }),
      { numRuns: 300 },
    );
  });
});
