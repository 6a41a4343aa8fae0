import { decodeFlash } from '../common-header.js';
import type { Esp8266SigningFacts } from './types.js';

/**
 * esp8266/Arduino cores 3.1.0–3.1.2 fail to verify a signed gzip image whose `.gz` length is not a multiple of 4
 * (fixed on master); padding the gzip header's FNAME or FEXTRA field to reach such a length avoids it.
 */
export function gzipLengthTripsCore31(gzipLength: number): boolean {
  return gzipLength % 4 !== 0;
}

/**
 * Why boards would reject this image once it is signed (or now, if it is): sentences for people, empty when none
 * applies. `boardFlashModeCode` is the flash mode (0 QIO … 3 DOUT) the platform's boards run, when known.
 */
export function esp8266SigningProblems(facts: Esp8266SigningFacts, boardFlashModeCode: number | undefined): string[] {
  const problems: string[] = [];
  if (
    facts.flashModeCode !== undefined &&
    boardFlashModeCode !== undefined &&
    facts.flashModeCode !== boardFlashModeCode
  ) {
    const image = decodeFlash(facts.flashModeCode, 0, 'esp8266').mode;
    const board = decodeFlash(boardFlashModeCode, 0, 'esp8266').mode;
    problems.push(
      `the image's flash mode is ${image} but the boards run ${board}: the Updater rewrites that header byte in flash and the signature, checked after it, fails (Updater error 12); build with flash mode ${board}`,
    );
  }
  if (facts.gzip && gzipLengthTripsCore31(facts.signedLength)) {
    problems.push(
      `the signed .gz is ${facts.signedLength} bytes, not a multiple of 4: boards on esp8266/Arduino 3.1.0–3.1.2 reject it; pad the gzip header (FNAME or FEXTRA) to a multiple of 4`,
    );
  }
  return problems;
}
