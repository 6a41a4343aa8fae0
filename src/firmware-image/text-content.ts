const LFS_POINTER_PREFIX = Buffer.from('version https://git-lfs.github.com/spec/', 'latin1');
const SAMPLE = 1024;

export function isGitLfsPointer(bytes: Uint8Array): boolean {
  return (
    bytes.length >= LFS_POINTER_PREFIX.length &&
    Buffer.from(bytes.subarray(0, LFS_POINTER_PREFIX.length)).equals(LFS_POINTER_PREFIX)
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Printable ASCII, whitespace and valid UTF-8 only, over the first KiB. */
export function looksLikeText(bytes: Uint8Array): boolean {
  let sample = bytes.subarray(0, SAMPLE);
  if (sample.length === 0) return false;
  for (const b of sample) {
    const control = b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d;
    if (control || b === 0x7f) return false;
  }
  // Do not let a multi-byte character cut by the sample's end count against the file.
  if (bytes.length > SAMPLE) {
    let end = sample.length;
    while (end > 0 && sample[end - 1]! >= 0x80) end--;
    sample = sample.subarray(0, end);
  }
  try {
    utf8.decode(sample);
    return true;
  } catch {
    return false;
  }
}

export function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, SAMPLE)).toString('latin1').trimStart().toLowerCase();
  return (
    head.startsWith('<!doctype html') ||
    head.startsWith('<html') ||
    head.startsWith('<?xml') ||
    head.startsWith('<head')
  );
}
