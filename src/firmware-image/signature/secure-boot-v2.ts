import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ecPublicKey, rsaPublicKey, type EcCurve, type ParsedPublicKey } from './public-key.js';
import { reversed, sha256, u32le, verifyEcdsa, verifyRsaPss } from './primitives.js';
import type { SecureBootBlock, SignatureCandidate } from './types.js';
import { INVALID, slice, type CandidateVerifier } from './verdict.js';

const SECTOR = 4096;
const BLOCK = 1216;
const MAX_BLOCKS = 3;
const MAGIC = 0xe7;
const VERSION_RSA = 0x02;
const VERSION_ECDSA = 0x03;
const CRC_COVERS = 1196;
const CURVES: Record<number, { curve: EcCurve; size: number }> = {
  1: { curve: 'P-192', size: 24 },
  2: { curve: 'P-256', size: 32 },
  3: { curve: 'P-384', size: 48 },
};

/**
 * ESP-IDF secure boot v2 and "signed apps" (protocol.md §7.3; esptool `espsecure`, ESP-IDF `secure-boot-v2.rst`):
 * the image padded with 0xFF to a 4 KiB multiple, then one 4 KiB sector holding up to three 1,216-byte blocks. Each
 * block carries the image digest, a public key and a signature, all little-endian: RSA-3072 PSS (salt 32,
 * SHA-256) in version 2 blocks, ECDSA P-192/P-256 (SHA-256) or P-384 (SHA-384) in version 3 blocks.
 */
export function locateSecureBootV2Signature(bytes: Uint8Array, imageEnd: number): SignatureCandidate | undefined {
  const sectorAt = Math.ceil(imageEnd / SECTOR) * SECTOR;
  if (sectorAt + SECTOR > bytes.length || bytes[sectorAt] !== MAGIC) return undefined;
  const content = bytes.subarray(0, sectorAt);
  const digests = new Map<string, string>();
  const blocks: SecureBootBlock[] = [];
  for (let index = 0; index < MAX_BLOCKS; index++) {
    const block = readBlock(bytes.subarray(sectorAt + index * BLOCK, sectorAt + (index + 1) * BLOCK), content, digests);
    if (!block) break;
    blocks.push({ ...block, index, offset: sectorAt + index * BLOCK });
  }
  if (blocks.length === 0) return undefined;
  const problems: string[] = [];
  for (const block of blocks) {
    if (!block.crcOk) problems.push(`block ${block.index}: its CRC-32 does not match, so the bootloader ignores it`);
    if (!block.imageDigestOk) {
      problems.push(
        `block ${block.index}: its image digest does not match the image: the image was changed after signing`,
      );
    }
    if (!block.keyDigest) problems.push(`block ${block.index}: its public key is malformed`);
  }
  const extra = bytes.length - (sectorAt + SECTOR);
  if (extra > 0) problems.push(`${extra} bytes follow the signature sector; the device ignores them`);
  if (imageEnd < sectorAt && !bytes.subarray(imageEnd, sectorAt).every((b) => b === 0xff)) {
    problems.push(
      'the bytes between the image and the signature sector are not 0xFF padding (they are signed all the same)',
    );
  }
  return {
    layout: 'secure-boot-v2',
    signedRange: { offset: 0, length: sectorAt },
    signatureRange: { offset: sectorAt, length: SECTOR },
    algorithms: [...new Set(blocks.map((b) => b.algorithm))],
    keyBits: [...new Set(blocks.map((b) => b.keyBits))],
    keyDigests: blocks.flatMap((b) => (b.keyDigest ? [b.keyDigest] : [])),
    blocks,
    evidence: `signature sector at 0x${sectorAt.toString(16).toUpperCase()} with ${blocks.length} block${blocks.length === 1 ? '' : 's'}`,
    problems,
  };
}

type BlockFields = Omit<SecureBootBlock, 'index' | 'offset'>;

function readBlock(block: Uint8Array, content: Uint8Array, digests: Map<string, string>): BlockFields | undefined {
  if (block[0] !== MAGIC || (block[1] !== VERSION_RSA && block[1] !== VERSION_ECDSA)) return undefined;
  const crcOk = crc32(block.subarray(0, CRC_COVERS)) === u32le(block, CRC_COVERS);
  if (block[1] === VERSION_RSA) {
    const key = rsaPublicKey(reversed(block.subarray(36, 420)), u32le(block, 420));
    return {
      algorithm: 'rsa-pss-sha256',
      keyBits: key.ok ? key.key.bits : 3072,
      keyDigest: key.ok ? key.key.digest : undefined,
      efuseDigest: sha256(block.subarray(36, 812)),
      crcOk,
      imageDigestOk: digestMatches(block.subarray(4, 36), content, 'sha256', digests),
    };
  }
  // Byte 2 says the hash: 0 SHA-256 (curve id at 36), 1 SHA-384 (a 48-byte digest pushes the key to 52).
  const sha384 = block[2] === 1;
  const keyAt = sha384 ? 52 : 36;
  const curve = CURVES[block[keyAt]!];
  const pointSpace = sha384 ? 96 : 64;
  const key: ParsedPublicKey = curve
    ? ecPublicKey(
        curve.curve,
        reversed(block.subarray(keyAt + 1, keyAt + 1 + curve.size)),
        reversed(block.subarray(keyAt + 1 + curve.size, keyAt + 1 + 2 * curve.size)),
      )
    : { ok: false, error: 'unknown curve' };
  return {
    algorithm: sha384 ? 'ecdsa-sha384' : 'ecdsa-sha256',
    keyBits: key.ok ? key.key.bits : 0,
    keyDigest: key.ok ? key.key.digest : undefined,
    efuseDigest: sha256(block.subarray(keyAt, keyAt + 1 + pointSpace)),
    crcOk,
    imageDigestOk: digestMatches(block.subarray(4, sha384 ? 52 : 36), content, sha384 ? 'sha384' : 'sha256', digests),
  };
}

/** Blocks usually share one hash of the image: it is computed once per algorithm. */
function digestMatches(stored: Uint8Array, content: Uint8Array, hash: string, cache: Map<string, string>): boolean {
  let digest = cache.get(hash);
  if (digest === undefined) {
    digest = createHash(hash).update(content).digest('hex');
    cache.set(hash, digest);
  }
  return Buffer.from(stored).toString('hex') === digest;
}

/**
 * A key verifies the image when a block the bootloader accepts (CRC and image digest right) carries that key and
 * its signature checks out over the bytes before the sector.
 */
export const verifySecureBootV2Signature: CandidateVerifier = (bytes, candidate, key) => {
  const content = slice(bytes, candidate.signedRange);
  for (const block of candidate.blocks ?? []) {
    if (block.keyDigest !== key.digest || !block.crcOk || !block.imageDigestOk) continue;
    const raw = bytes.subarray(block.offset, block.offset + BLOCK);
    if (block.algorithm === 'rsa-pss-sha256') {
      if (verifyRsaPss(content, key, reversed(raw.subarray(812, 1196)), 'sha256', 32)) {
        return { valid: true, algorithm: block.algorithm };
      }
      continue;
    }
    const size = block.keyBits / 8;
    const at = block.algorithm === 'ecdsa-sha384' ? 149 : 101;
    const signature = Buffer.concat([
      reversed(raw.subarray(at, at + size)),
      reversed(raw.subarray(at + size, at + 2 * size)),
    ]);
    const hash = block.algorithm === 'ecdsa-sha384' ? 'sha384' : 'sha256';
    if (verifyEcdsa(content, key, signature, hash, 'ieee-p1363')) return { valid: true, algorithm: block.algorithm };
  }
  return INVALID;
};
