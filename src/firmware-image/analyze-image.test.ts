import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from './index.js';
import { buildEsp32App, buildEsp8266App, buildEsp8266RamOnlyImage } from '../../test/synthetic/image-builder.js';
import {
  CORPUS_AVAILABLE,
  CORPUS_SKIP_REASON,
  firmwareOfKind,
  readFirmware,
} from '../../test/helpers/firmware-corpus.js';

function withByte(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = value;
  return copy;
}

describe('ESP32-family application images', () => {
  it('parses a valid image with its descriptor and checks', () => {
    const image = buildEsp32App({
      chipId: 9,
      descriptor: { version: '2.3.4', projectName: 'AirPatrol', idfVersion: 'v5.4.1' },
    });
    const analysis = analyzeImage(image);
    expect(analysis).toMatchObject({
      kind: 'app',
      family: 'esp32',
      chip: 'esp32s3',
      imageLength: image.length,
      hashAppended: true,
      tail: undefined,
      maxChipRevision: '3.99',
      descriptor: { version: '2.3.4', projectName: 'AirPatrol', idfVersion: 'v5.4.1' },
    });
    expect(analysis.checks.map((c) => c.name)).toEqual(['header', 'segments', 'checksum', 'sha256', 'length']);
  });

  it.each([
    [0x00, 'esp32'],
    [0x02, 'esp32s2'],
    [0x05, 'esp32c3'],
    [0x0c, 'esp32c2'],
    [0x0d, 'esp32c6'],
    [0x10, 'esp32h2'],
    [0x12, 'esp32p4'],
    [0x14, 'esp32c61'],
    [0x17, 'esp32c5'],
  ])('maps chip id %i to %s', (chipId, chip) => {
    expect(analyzeImage(buildEsp32App({ chipId }))).toMatchObject({ kind: 'app', chip });
  });

  it('refuses images for retired pre-release chips', () => {
    expect(analyzeImage(buildEsp32App({ chipId: 0x07 }))).toMatchObject({ kind: 'rejected', code: 'unsupported' });
  });

  it('rejects a flipped data byte as a checksum failure and names the offset', () => {
    const image = buildEsp32App({ hashAppended: false });
    const analysis = analyzeImage(withByte(image, 0x40, image[0x40]! ^ 0x01));
    expect(analysis).toMatchObject({ kind: 'rejected', code: 'corrupt', offset: image.length - 1 });
    expect(analysis.kind === 'rejected' && analysis.reason).toMatch(/checksum mismatch at 0x/);
  });

  it('rejects a damaged appended SHA-256', () => {
    const image = buildEsp32App();
    const analysis = analyzeImage(withByte(image, image.length - 1, image[image.length - 1]! ^ 0xff));
    expect(analysis).toMatchObject({ kind: 'rejected', code: 'corrupt', offset: image.length - 32 });
  });

  it('rejects a truncated image and says where it ends', () => {
    const image = buildEsp32App();
    const analysis = analyzeImage(image.subarray(0, 200));
    expect(analysis).toMatchObject({ kind: 'rejected', code: 'truncated' });
    expect(analysis.kind === 'rejected' && analysis.reason).toContain('file ends at 0xC8');
  });

  it('rejects more than 16 segments', () => {
    expect(analyzeImage(withByte(buildEsp32App(), 1, 17))).toMatchObject({
      kind: 'rejected',
      code: 'corrupt',
      offset: 1,
    });
  });

  it('reports 0xFF padding after the image as padding', () => {
    const analysis = analyzeImage(buildEsp32App({ tail: Buffer.alloc(4096, 0xff) }));
    expect(analysis).toMatchObject({ kind: 'app', tail: { length: 4096, kind: 'padding' } });
  });

  it('rejects an ESP32 image without an application descriptor as a bootloader', () => {
    const image = buildEsp32App();
    image.writeUInt32LE(0, 0x20);
    expect(analyzeImage(image)).toMatchObject({ kind: 'rejected', code: 'bootloader' });
  });
});

describe('ESP8266 application images', () => {
  it('parses the Arduino two-image layout and verifies the CRC words', () => {
    const image = buildEsp8266App();
    expect(analyzeImage(image)).toMatchObject({
      kind: 'app',
      family: 'esp8266',
      layout: 'arduino',
      sketchOffset: 0x1000,
      imageLength: image.length,
      flash: { sizeBytes: 4 * 1024 * 1024 },
      crc: { stored: image.readUInt32LE(0x1014) },
    });
  });

  it('accepts an older build without CRC words', () => {
    expect(analyzeImage(buildEsp8266App({ crcWords: false }))).toMatchObject({ kind: 'app', crc: undefined });
  });

  it('rejects a wrong CRC-32', () => {
    const image = buildEsp8266App();
    image.writeUInt32LE(image.readUInt32LE(0x1014) ^ 1, 0x1014);
    expect(analyzeImage(image)).toMatchObject({ kind: 'rejected', code: 'corrupt', offset: 0x1014 });
  });

  it('rejects a damaged sketch checksum', () => {
    const image = buildEsp8266App({ crcWords: false });
    expect(analyzeImage(withByte(image, 0x1018, image[0x1018]! ^ 0x10))).toMatchObject({
      kind: 'rejected',
      code: 'corrupt',
    });
  });

  it('rejects a RAM-only image as a bootloader', () => {
    expect(analyzeImage(buildEsp8266RamOnlyImage())).toMatchObject({ kind: 'rejected', code: 'bootloader' });
  });

  it('recognises a gzip-compressed sketch and describes the inflated image', () => {
    const image = buildEsp8266App();
    const compressed = gzipSync(image);
    expect(analyzeImage(compressed)).toMatchObject({
      kind: 'app',
      family: 'esp8266',
      compression: 'gzip',
      size: compressed.length,
      inflatedSize: image.length,
    });
  });

  it('refuses gzip around an ESP32 image, damaged gzip and gzip bombs', () => {
    expect(analyzeImage(gzipSync(buildEsp32App()))).toMatchObject({ kind: 'rejected', code: 'unsupported' });
    const damaged = gzipSync(buildEsp8266App());
    damaged[damaged.length - 6] = damaged[damaged.length - 6]! ^ 0xff;
    expect(analyzeImage(damaged)).toMatchObject({ kind: 'rejected', code: 'corrupt' });
    expect(analyzeImage(gzipSync(Buffer.alloc(17 * 1024 * 1024)))).toMatchObject({ kind: 'rejected', code: 'corrupt' });
  });

  // eboot inflates a gzip upload exactly once, and only its first member: what is analysed must be what it installs.
  it.skipIf(!CORPUS_AVAILABLE)(
    `issue 11.8: refuses a real ESP8266 sketch gzipped twice${CORPUS_AVAILABLE ? '' : ` — skipped: ${CORPUS_SKIP_REASON}`}`,
    () => {
      const sketch = readFirmware(firmwareOfKind('esp8266-app').file);
      expect(analyzeImage(gzipSync(sketch))).toMatchObject({ kind: 'app', family: 'esp8266', compression: 'gzip' });
      const twice = analyzeImage(gzipSync(gzipSync(sketch)));
      expect(twice).toMatchObject({ kind: 'rejected', code: 'nested-gzip' });
      expect(twice.kind === 'rejected' && twice.reason).toMatch(/gzip.*inside.*gzip.*inflates.*once/i);
    },
  );

  it('issue 11.8: refuses a gzip file with a second member, which eboot would never inflate', () => {
    const image = buildEsp8266App();
    const split = Math.floor(image.length / 2);
    // Node's gunzip would join both halves into the whole image; the bootloader would install only the first half.
    const twoMembers = Buffer.concat([gzipSync(image.subarray(0, split)), gzipSync(image.subarray(split))]);
    expect(analyzeImage(twoMembers)).toMatchObject({ kind: 'rejected', code: 'unsupported' });
    expect(analyzeImage(Buffer.concat([gzipSync(image), gzipSync(Buffer.alloc(0))]))).toMatchObject({
      kind: 'rejected',
      code: 'unsupported',
    });
  });

  it('rejects ESP8266 v2 images', () => {
    const image = buildEsp8266App();
    expect(analyzeImage(withByte(image, 0, 0xea))).toMatchObject({ kind: 'rejected', code: 'esp8266-v2' });
  });
});

describe('files that are not application images', () => {
  it.each([
    ['empty', Buffer.alloc(0), 'empty'],
    ['an HTML error page', Buffer.from('<!DOCTYPE html><html><body>404 Not Found</body></html>'), 'text'],
    ['a text file', Buffer.from('just some notes\nabout firmware\n'), 'text'],
    [
      'a Git LFS pointer',
      Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n'),
      'git-lfs-pointer',
    ],
    ['random bytes', Buffer.from([0x42, 0x00, 0x13, 0x37, 0x99, 0x01]), 'not-firmware'],
    ['erased flash', Buffer.alloc(4096, 0xff), 'blank'],
    ['ota_data_initial', Buffer.alloc(8192, 0xff), 'ota-data'],
    ['a lone 0xE9', Buffer.from([0xe9]), 'truncated'],
  ])('rejects %s', (_name, bytes, code) => {
    const analysis = analyzeImage(bytes);
    expect(analysis).toMatchObject({ kind: 'rejected', code });
  });

  it('recognises a LittleFS image', () => {
    const image = Buffer.alloc(8192, 0xff);
    image.write('littlefs', 8, 'latin1');
    expect(analyzeImage(image)).toMatchObject({ kind: 'filesystem', fsType: 'littlefs' });
  });

  it('recognises a FAT image', () => {
    const image = Buffer.alloc(4096, 0);
    image[0] = 0xeb;
    image.write('FAT12   ', 54, 'latin1');
    image.writeUInt16LE(0xaa55, 510);
    expect(analyzeImage(image)).toMatchObject({ kind: 'filesystem', fsType: 'fatfs' });
  });
});
