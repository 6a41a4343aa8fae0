import type { Readable } from 'node:stream';

/** What a staged or stored blob is: its key is its SHA-256, so equal bytes are stored once. */
export interface BlobInfo {
  key: string;
  size: number;
  md5: string;
  sha256: string;
}

/** Bytes received and synced to disk, but not yet visible under their key. */
export interface StagedBlob extends BlobInfo {
  /** Reads the staged bytes (the analyser needs them whole; uploads are size-limited). */
  read(): Promise<Buffer>;
  /** Makes the blob visible under its key (atomic rename + directory sync). */
  commit(): Promise<void>;
  /** Throws the staged bytes away. */
  discard(): Promise<void>;
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than the limit of ${limit} bytes`);
  }
}

/**
 * Firmware bytes, streamed in and out. `stage` writes to a temporary file while hashing, and only `commit` moves it
 * into place, so a key that exists always names complete, synced bytes.
 */
export interface BlobStore {
  stage(source: Readable, limit: number): Promise<StagedBlob>;
  read(key: string): Promise<Buffer>;
  /**
   * Bytes `start` to `end` (inclusive) of a committed blob as a stream that reads a bounded chunk at a time, for
   * images too large to hold in memory once per request. Rejects before the first byte when the blob is missing.
   */
  openRange(key: string, start: number, end: number): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Keys of committed blobs and when each was last committed, for the collector. */
  list(): Promise<{ key: string; committedAt: number }[]>;
  /**
   * Deletes the blob if no image row nor install asset part points at it and it was last committed before
   * `committedBefore`; true when it did. Deciding and deleting are one step against commits of the same key, which
   * refresh its time: a commit is either seen (and the blob kept) or comes after the delete (and brings the blob
   * back), never lost in between.
   */
  deleteIfUnreferenced(key: string, committedBefore: number): Promise<boolean>;
  /** Removes temporary files left by a crash. */
  removeAbandonedStaging(olderThanMs: number): Promise<number>;
}
