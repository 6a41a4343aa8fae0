/**
 * The only exception the image analyser raises internally. `analyzeImage` turns it into a `rejected` result, so
 * callers never see it; anything else escaping the analyser is a bug (the fuzz test looks for exactly that).
 */
export class ImageFormatError extends Error {
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'ImageFormatError';
  }
}

export type RejectionCode =
  | 'empty'
  | 'git-lfs-pointer'
  | 'text'
  | 'blank'
  | 'bootloader'
  | 'partition-table'
  | 'ota-data'
  | 'merged-image'
  | 'esp8266-v2'
  | 'truncated'
  | 'corrupt'
  | 'unsupported'
  | 'nested-gzip'
  | 'not-firmware'
  | 'signed-esp32fota';
