import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** A public key the verifier can use, with the identity this server gives it. */
export interface PublicKey {
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: the same whatever PEM flavour it came in. */
  digest: string;
  type: 'rsa' | 'ec';
  /** RSA modulus bits, or the curve's bits. */
  bits: number;
  /** `P-192`, `P-256` or `P-384` for EC keys. */
  curve: EcCurve | undefined;
  /** SubjectPublicKeyInfo PEM. */
  pem: string;
  keyObject: KeyObject;
}

export type EcCurve = 'P-192' | 'P-256' | 'P-384';

export type ParsedPublicKey = { ok: true; key: PublicKey } | { ok: false; error: string };

const CURVES: Record<string, EcCurve> = { prime192v1: 'P-192', prime256v1: 'P-256', secp384r1: 'P-384' };
const CURVE_BITS: Record<EcCurve, number> = { 'P-192': 192, 'P-256': 256, 'P-384': 384 };
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
/** Inputs past this are no public key anyone pasted; it bounds the work done on hostile text. */
const MAX_INPUT = 64 * 1024;

/**
 * Reads one public key from PEM text: `PUBLIC KEY` (SubjectPublicKeyInfo, RSA or EC) or `RSA PUBLIC KEY` (PKCS#1).
 * Private keys are refused outright, even though a public key could be derived from them: a form for public keys
 * must never make anyone paste private material into it. Never throws.
 */
export function parsePublicKey(text: string): ParsedPublicKey {
  if (text.length > MAX_INPUT) return { ok: false, error: 'that is far too long for a public key' };
  if (/PRIVATE KEY/.test(text)) {
    return {
      ok: false,
      error:
        'this is a PRIVATE key: it must stay with whoever signs the firmware. Give the public key instead (openssl pkey -in private.pem -pubout)',
    };
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    return {
      ok: false,
      error: 'no PEM public key found: expected "-----BEGIN PUBLIC KEY-----" … "-----END PUBLIC KEY-----"',
    };
  }
  if (blocks.length > 1)
    return { ok: false, error: `${blocks.length} PEM blocks found: give one public key at a time` };
  const [, label, body] = blocks[0]!;
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
    return { ok: false, error: `a "${label}" is not a public key: expected "PUBLIC KEY" or "RSA PUBLIC KEY"` };
  }
  const der = Buffer.from(body!.replace(/\s+/g, ''), 'base64');
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: der, format: 'der', type: label === 'PUBLIC KEY' ? 'spki' : 'pkcs1' });
  } catch {
    return { ok: false, error: 'the PEM block does not hold a valid public key' };
  }
  return describeKey(keyObject);
}

/** Wraps a key built from the image (secure boot v2 blocks, embedded PEM) or parsed by `parsePublicKey`. */
export function describeKey(keyObject: KeyObject): ParsedPublicKey {
  if (keyObject.type !== 'public') return { ok: false, error: 'not a public key' };
  const der = keyObject.export({ type: 'spki', format: 'der' });
  const pem = keyObject.export({ type: 'spki', format: 'pem' }).toString();
  const digest = createHash('sha256').update(der).digest('hex');
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === 'rsa') {
    return {
      ok: true,
      key: { digest, type: 'rsa', bits: details.modulusLength ?? 0, curve: undefined, pem, keyObject },
    };
  }
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    if (!curve) return { ok: false, error: `EC curve ${details.namedCurve} is used by no ESP client` };
    return { ok: true, key: { digest, type: 'ec', bits: CURVE_BITS[curve], curve, pem, keyObject } };
  }
  return { ok: false, error: `${keyObject.asymmetricKeyType} keys are used by no ESP client: use RSA or ECDSA` };
}

/**
 * An EC public key from its affine coordinates (big-endian, `size` bytes each), as a SubjectPublicKeyInfo.
 * Built by hand because JWK, Node's other way in, has no P-192.
 */
export function ecPublicKey(curve: EcCurve, x: Uint8Array, y: Uint8Array): ParsedPublicKey {
  const prefix = SPKI_PREFIX[curve];
  try {
    const der = Buffer.concat([Buffer.from(prefix, 'hex'), Buffer.from([0x04]), x, y]);
    return describeKey(createPublicKey({ key: der, format: 'der', type: 'spki' }));
  } catch {
    return { ok: false, error: `the ${curve} point is not on the curve` };
  }
}

/** SEQUENCE { SEQUENCE { id-ecPublicKey, curve OID }, BIT STRING (0 unused bits) … } up to the point. */
const SPKI_PREFIX: Record<EcCurve, string> = {
  'P-192': '3049301306072a8648ce3d020106082a8648ce3d030101033200',
  'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'P-384': '3076301006072a8648ce3d020106052b81040022036200',
};

/** An RSA public key from its big-endian modulus and exponent. */
export function rsaPublicKey(modulus: Uint8Array, exponent: number): ParsedPublicKey {
  try {
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exponent >>> 0);
    const keyObject = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(modulus).toString('base64url'), e: stripZeros(e).toString('base64url') },
      format: 'jwk',
    });
    return describeKey(keyObject);
  } catch {
    return { ok: false, error: 'the RSA modulus or exponent is malformed' };
  }
}

function stripZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}
