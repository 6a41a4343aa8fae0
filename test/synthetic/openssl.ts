/**
 * Keys and signatures made by the `openssl` command line, as the signing tools of each client make them, so the
 * tests check the verifier against an independent implementation rather than against itself. Everything lives in a
 * temporary directory that `dispose()` removes; nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  name: string;
  privatePath: string;
  /** SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes it. */
  publicPem: string;
}

export type RsaPadding = { mode: 'pkcs1' } | { mode: 'pss'; saltLength: number | 'max' };

export class OpenSsl {
  private counter = 0;

  private constructor(readonly dir: string) {}

  static create(): OpenSsl {
    return new OpenSsl(mkdtempSync(join(tmpdir(), 'esp-ota-signing-')));
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(args: string[], input?: Uint8Array): Buffer {
    return execFileSync('openssl', args, { input, timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  private file(data: Uint8Array): string {
    const path = join(this.dir, `data-${this.counter++}.bin`);
    writeFileSync(path, data);
    return path;
  }

  rsaKey(bits: number): TestKey {
    return this.key(`rsa-${bits}`, ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`]);
  }

  ecKey(curve: 'P-192' | 'P-256' | 'P-384'): TestKey {
    const name = { 'P-192': 'prime192v1', 'P-256': 'prime256v1', 'P-384': 'secp384r1' }[curve];
    return this.key(`ec-${curve}`, ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${name}`]);
  }

  /** A key type no ESP client uses, to see it refused. */
  ed25519Key(): TestKey {
    return this.key('ed25519', ['-algorithm', 'ED25519']);
  }

  private key(name: string, options: string[]): TestKey {
    const privatePath = join(this.dir, `${name}-${this.counter++}.pem`);
    this.run(['genpkey', ...options, '-out', privatePath]);
    const publicPem = this.run(['pkey', '-in', privatePath, '-pubout']).toString('latin1');
    return { name, privatePath, publicPem };
  }

  /** The same public key as PKCS#1 `RSA PUBLIC KEY` PEM. */
  rsaPublicKeyPkcs1(key: TestKey): string {
    return this.run(['rsa', '-in', key.privatePath, '-RSAPublicKey_out']).toString('latin1');
  }

  /** `openssl dgst -<hash> -sign`: PKCS#1 v1.5 with DigestInfo (or PSS) for RSA, DER for ECDSA. */
  sign(key: TestKey, data: Uint8Array, hash = 'sha256', padding: RsaPadding = { mode: 'pkcs1' }): Buffer {
    const options =
      padding.mode === 'pss'
        ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${padding.saltLength}`]
        : [];
    return this.run(['dgst', `-${hash}`, '-sign', key.privatePath, ...options, this.file(data)]);
  }

  /** What esp8266/Arduino ≤ 2.5.2 did: the raw SHA-256 digest with PKCS#1 type-1 padding, no DigestInfo. */
  signRawDigest(key: TestKey, data: Uint8Array): Buffer {
    const digest = this.run(['dgst', '-sha256', '-binary', this.file(data)]);
    return this.run(['pkeyutl', '-sign', '-inkey', key.privatePath, '-in', this.file(digest)]);
  }

  /** The SHA-256 (or other) digest openssl computes, for cross-checking. */
  digest(data: Uint8Array, hash = 'sha256'): Buffer {
    return this.run(['dgst', `-${hash}`, '-binary', this.file(data)]);
  }

  readPrivate(key: TestKey): string {
    return readFileSync(key.privatePath, 'latin1');
  }
}
