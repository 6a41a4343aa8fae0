import type { ByteReader } from './byte-reader.js';

/** ESP-IDF partition table: 32-byte entries starting `AA 50`, at flash 0x8000 by default. */
export const PARTITION_TABLE_OFFSET = 0x8000;
const ENTRY_SIZE = 32;
const ENTRY_MAGIC = 0x50aa;
const MAX_ENTRIES = 95;

export interface PartitionEntry {
  type: number;
  subtype: number;
  offset: number;
  size: number;
  label: string;
}

export function startsPartitionTable(reader: ByteReader, offset: number): boolean {
  return reader.has(offset, ENTRY_SIZE) && reader.u16(offset) === ENTRY_MAGIC;
}

export function readPartitionTable(reader: ByteReader, offset: number): PartitionEntry[] {
  const entries: PartitionEntry[] = [];
  for (let i = 0; i < MAX_ENTRIES; i++) {
    const at = offset + i * ENTRY_SIZE;
    if (!startsPartitionTable(reader, at)) break;
    entries.push({
      type: reader.u8(at + 2),
      subtype: reader.u8(at + 3),
      offset: reader.u32(at + 4),
      size: reader.u32(at + 8),
      label: reader.cString(at + 12, 16),
    });
  }
  return entries;
}

/** App partitions have type 0 (factory, ota_0…). */
export function appPartitions(entries: PartitionEntry[]): PartitionEntry[] {
  return entries.filter((entry) => entry.type === 0);
}
