import type { AppDescriptor } from './analysis.js';
import type { ByteReader } from './byte-reader.js';
import { toHex } from './byte-reader.js';

/** `esp_app_desc_t` sits right after the image header and the first segment header (protocol.md §4.4). */
export const APP_DESC_OFFSET = 0x20;
export const APP_DESC_MAGIC = 0xabcd5432;

export function readAppDescriptor(reader: ByteReader, imageOffset = 0): AppDescriptor {
  const at = imageOffset + APP_DESC_OFFSET;
  const what = 'app descriptor';
  return {
    secureVersion: reader.u32(at + 4, what),
    version: reader.cString(at + 16, 32, what),
    projectName: reader.cString(at + 48, 32, what),
    time: reader.cString(at + 80, 16, what),
    date: reader.cString(at + 96, 16, what),
    idfVersion: reader.cString(at + 112, 32, what),
    elfSha256: toHex(reader.slice(at + 144, 32, what)),
    minEfuseBlockRevision: reader.u16(at + 176, what),
    maxEfuseBlockRevision: reader.u16(at + 178, what),
    mmuPageSizeLog2: reader.u8(at + 180, what),
    spiFlashMode: reader.u8(at + 181, what),
  };
}

/** Project names of the Arduino-ESP32 core's lib-builder: such a descriptor describes the core, not the sketch. */
const ARDUINO_CORE_PROJECTS = new Set(['arduino-lib-builder', 'esp32-arduino-lib-builder']);

export function isArduinoCoreDescriptor(descriptor: AppDescriptor): boolean {
  return ARDUINO_CORE_PROJECTS.has(descriptor.projectName.trim().toLowerCase());
}
