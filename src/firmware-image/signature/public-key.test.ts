import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from './public-key.js';
import { OpenSsl, type TestKey } from '../../../test/synthetic/openssl.js';

let openssl: OpenSsl;
let rsa: TestKey;
let p256: TestKey;
let p384: TestKey;

beforeAll(() => {
  openssl = OpenSsl.create();
  rsa = openssl.rsaKey(2048);
  p256 = openssl.ecKey('P-256');
  p384 = openssl.ecKey('P-384');
});
afterAll(() => openssl?.dispose());

/** The digest as anyone can compute it: SHA-256 of the DER SubjectPublicKeyInfo openssl writes. */
function opensslDigest(key: TestKey): string {
  const der = Buffer.from(key.publicPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex');
}

describe('parsePublicKey', () => {
  it('reads RSA and EC SubjectPublicKeyInfo PEM and names each key by the SHA-256 of its DER', () => {
    expect(parsePublicKey(rsa.publicPem)).toMatchObject({
      ok: true,
      key: { type: 'rsa', bits: 2048, curve: undefined, digest: opensslDigest(rsa) },
    });
    expect(parsePublicKey(p256.publicPem)).toMatchObject({
      ok: true,
      key: { type: 'ec', bits: 256, curve: 'P-256', digest: opensslDigest(p256) },
    });
    expect(parsePublicKey(p384.publicPem)).toMatchObject({ ok: true, key: { curve: 'P-384', bits: 384 } });
  });

  it('gives a PKCS#1 "RSA PUBLIC KEY" the same digest as the same key in SubjectPublicKeyInfo form', () => {
    const pkcs1 = openssl.rsaPublicKeyPkcs1(rsa);
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const parsed = parsePublicKey(pkcs1);
    expect(parsed).toMatchObject({ ok: true, key: { digest: opensslDigest(rsa) } });
    expect(parsed.ok && parsed.key.pem).toContain('BEGIN PUBLIC KEY');
  });

  it('accepts text around the PEM block (a pasted key with a comment, CRLF line ends)', () => {
    const text = `# build server key\r\n${p256.publicPem.replace(/\n/g, '\r\n')}\r\n`;
    expect(parsePublicKey(text)).toMatchObject({ ok: true, key: { digest: opensslDigest(p256) } });
  });

  it.each([
    ['PKCS#8', () => openssl.readPrivate(rsa)],
    ['traditional RSA', () => openssl.readPrivate(rsa).replace(/PRIVATE KEY/g, 'RSA PRIVATE KEY')],
    ['SEC1 EC', () => openssl.readPrivate(p256).replace(/PRIVATE KEY/g, 'EC PRIVATE KEY')],
    ['encrypted', () => '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n'],
    ['a public key pasted together with its private key', () => rsa.publicPem + openssl.readPrivate(rsa)],
  ])('refuses a %s private key and says why', (_name, text) => {
    const parsed = parsePublicKey(text());
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/PRIVATE key: it must stay with whoever signs/);
  });

  it('refuses a private key relabelled as a public one', () => {
    const disguised = openssl.readPrivate(p256).replace(/PRIVATE KEY/g, 'PUBLIC KEY');
    expect(parsePublicKey(disguised)).toMatchObject({ ok: false, error: expect.stringMatching(/not hold a valid/) });
  });

  it.each([
    ['empty text', '', /no PEM public key found/],
    [
      'a certificate',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      /"CERTIFICATE" is not a public key/,
    ],
    ['broken base64', '-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----', /not hold a valid public key/],
    ['megabytes of text', 'A'.repeat(100_000), /far too long/],
  ])('refuses %s with a sentence', (_name, text, error) => {
    expect(parsePublicKey(text)).toMatchObject({ ok: false, error: expect.stringMatching(error) });
  });

  it('refuses two keys at once and keys no ESP client verifies with', () => {
    expect(parsePublicKey(rsa.publicPem + p256.publicPem)).toMatchObject({ ok: false, error: /2 PEM blocks/ });
    expect(parsePublicKey(openssl.ed25519Key().publicPem)).toMatchObject({
      ok: false,
      error: /ed25519 keys are used by no ESP client/,
    });
  });
});
