import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Real images from public projects live beside the project, in ../shared/firmware (never copied in). */
export const FIRMWARE_DIR =
  process.env.ESP_OTA_FIRMWARE_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/firmware');
export const CORPUS_AVAILABLE = existsSync(join(FIRMWARE_DIR, 'MANIFEST.tsv'));

if (!CORPUS_AVAILABLE && process.env.CI) {
  throw new Error(`the real-firmware corpus is missing at ${FIRMWARE_DIR}; CI must not skip those tests`);
}
export const CORPUS_SKIP_REASON = `real firmware corpus not found at ${FIRMWARE_DIR} (set ESP_OTA_FIRMWARE_DIR)`;

export interface ManifestRow {
  file: string;
  bytes: number;
  sha256: string;
  what_it_is: string;
  magic: string;
  chip_id: string;
  chip: string;
  app_version: string;
  project_name: string;
  idf_ver: string;
  date: string;
  time: string;
  notes: string;
}

export function readManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(FIRMWARE_DIR, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const columns = header!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    const row = Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']));
    return { ...row, bytes: Number(row.bytes) } as unknown as ManifestRow;
  });
}

export function readFirmware(file: string): Buffer {
  return readFileSync(join(FIRMWARE_DIR, file));
}

/** The first row whose `what_it_is` matches, for tests that need "an ESP8266 app" or "an ESP32-S3 app". */
export function firmwareOfKind(kind: string, predicate: (row: ManifestRow) => boolean = () => true): ManifestRow {
  const row = readManifest().find((r) => r.what_it_is === kind && predicate(r));
  if (!row) throw new Error(`no ${kind} in the firmware manifest`);
  return row;
}
