/** Where something sits in the uploaded file. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * The signed layouts the stock clients verify (protocol.md §7):
 * - `esp8266`: `payload ‖ signature ‖ u32 length`, RSA PKCS#1 v1.5 SHA-256 (esp8266/Arduino ≥ 2.6);
 * - `esp8266-legacy`: the same trailer signed the ≤ 2.5.2 way (raw digest, no DigestInfo); only a key tells it apart;
 * - `arduino-esp32`: `image ‖ signature zero-padded to 512 bytes`, RSA-PSS (maximum salt) or ECDSA DER (≥ 3.3);
 * - `secure-boot-v2`: ESP-IDF's signature sector of up to three blocks after the 4 KiB-padded image;
 * - `secure-boot-v1`: ESP-IDF's `u32 0 ‖ ECDSA P-256 r ‖ s` after the image (ESP32 before ECO3);
 * - `esp32fota`: `signature ‖ image`, RSA-4096 PKCS#1 v1.5 SHA-256 (chrisjoyce911/esp32FOTA).
 */
export type SignatureLayout =
  'esp8266' | 'esp8266-legacy' | 'arduino-esp32' | 'secure-boot-v2' | 'secure-boot-v1' | 'esp32fota';

/**
 * `rsa-pkcs1-raw-sha256` is esp8266/Arduino ≤ 2.5.2's form: PKCS#1 type-1 padding around the bare SHA-256 digest.
 * RSA-PSS salt lengths are the layout's (32 for secure boot v2, the maximum for arduino-esp32).
 */
export type SignatureAlgorithm =
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-raw-sha256'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'rsa-pss-sha512'
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'ecdsa-sha512';

/** One secure boot v2 signature block (1,216 bytes in the signature sector). */
export interface SecureBootBlock {
  index: number;
  offset: number;
  algorithm: 'rsa-pss-sha256' | 'ecdsa-sha256' | 'ecdsa-sha384';
  /** RSA modulus bits, or the curve's bits (192, 256, 384). */
  keyBits: number;
  /** SHA-256 of the DER SubjectPublicKeyInfo of the key the block carries; undefined when that key is malformed. */
  keyDigest: string | undefined;
  /** The digest `espsecure digest_sbv2_public_key` prints and eFuse holds: SHA-256 of the block's key fields. */
  efuseDigest: string;
  /** The bootloader ignores a block whose CRC-32 does not match. */
  crcOk: boolean;
  /** The block's copy of the image digest equals the digest of the bytes before the sector. */
  imageDigestOk: boolean;
}

/** What one recognised layout says, before any key is tried. */
export interface SignatureCandidate {
  layout: SignatureLayout;
  /** The bytes the signature covers. */
  signedRange: ByteRange;
  /** The signature, its trailer or its sector. */
  signatureRange: ByteRange;
  /** What the bytes allow; a key narrows it to one. */
  algorithms: SignatureAlgorithm[];
  /** Key sizes the signature allows: RSA modulus bits, or the curve's bits. */
  keyBits: number[];
  /** SHA-256 of the DER SubjectPublicKeyInfo of each key the signature carries (only secure boot v2 carries them). */
  keyDigests: string[];
  /** Secure boot v2 only. */
  blocks: SecureBootBlock[] | undefined;
  /** How the layout was recognised, for people: "length word 256 at the end", "block CRC and image digest match". */
  evidence: string;
  problems: string[];
}

/** A PEM public key found verbatim in the image: a sketch built to demand signed updates carries its key. */
export interface EmbeddedPublicKey {
  offset: number;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex. */
  digest: string;
  type: 'rsa' | 'ec';
  bits: number;
  /** The key as SubjectPublicKeyInfo PEM, ready to be adopted as a platform key. */
  pem: string;
}

/** What the ESP8266 rules for signed uploads need (protocol.md §7.1); see `esp8266SigningProblems`. */
export interface Esp8266SigningFacts {
  /** Length of the bytes that are (or would be) signed: the `.gz` length for gzip uploads. */
  signedLength: number;
  gzip: boolean;
  /** Byte 2 of the signed bytes (flash mode); undefined for gzip, whose header the Updater does not rewrite. */
  flashModeCode: number | undefined;
}

/** The analyser's key-less account of an image's signature. */
export interface SignatureSummary {
  /** A signature layout was recognised (a key may still find it invalid). */
  signed: boolean;
  /** The layout when exactly one was recognised. */
  layout: SignatureLayout | undefined;
  /** The algorithm when the bytes fix it (secure boot, ECDSA DER); otherwise a key has to tell. */
  algorithm: SignatureAlgorithm | undefined;
  /** Digests of keys the signature carries (secure boot v2). */
  keyDigests: string[];
  /** Every layout the bytes fit; more than one means the bytes alone cannot say which. */
  candidates: SignatureCandidate[];
  embeddedPublicKeys: EmbeddedPublicKey[];
  esp8266: Esp8266SigningFacts | undefined;
  problems: string[];
}

/** A candidate after trying the given keys. */
export interface VerifiedCandidate extends SignatureCandidate {
  /** Digests of the given keys that verify it. */
  validKeys: string[];
  /** The algorithm the first valid key verified with. */
  verifiedAlgorithm: SignatureAlgorithm | undefined;
}

/** `inspectSignature`'s answer: the summary, plus which of the given keys verify the signature. */
export interface SignatureVerification extends Omit<SignatureSummary, 'candidates'> {
  candidates: VerifiedCandidate[];
  /** Digests of the given keys that verify the signature in at least one candidate layout. */
  validKeys: string[];
  verified: boolean;
}
