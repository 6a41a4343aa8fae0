import { spawn } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parsePublicKey, type PublicKey } from '../../firmware-image/index.js';
import { DomainError } from '../../lib/domain-error.js';
import type { SigningPlan } from './signing-layout.js';

/**
 * Signs uploads on the server (README "Server-side signing", docs/security.md). The private key is read once into a
 * `KeyObject` held only in a closure: it is never a field, never serialised, never logged, never in an error message.
 * With a sign-command the key never enters this process at all.
 */
export interface ServerSigner {
  /** The public half: platforms that trust it get their unsigned uploads signed. */
  publicKey: PublicKey;
  /** Where the signature comes from, for people: "key file" or "sign-command". */
  source: 'key file' | 'sign-command';
  sign(payload: Uint8Array, algorithm: SigningPlan['algorithm']): Promise<Buffer>;
}

export interface SignerOptions {
  signingKey: string;
  signCommand: string;
  signingPublicKey: string;
}

const COMMAND_TIMEOUT_MS = 30_000;
/** A signature is at most 512 bytes (RSA-4096); anything much longer is not one. */
const MAX_SIGNATURE = 4096;

/** The configured signer, or undefined when server-side signing is off. Throws at start-up on a bad configuration. */
export function createServerSigner(options: SignerOptions): ServerSigner | undefined {
  if (options.signingKey && options.signCommand) {
    throw new Error('configure signingKey or signCommand for server-side signing, not both');
  }
  if (options.signingKey) return keyFileSigner(options.signingKey);
  if (options.signCommand) {
    if (!options.signingPublicKey) throw new Error('signCommand needs signingPublicKey (its public key, PEM)');
    return commandSigner(options.signCommand, readPublicKey(options.signingPublicKey));
  }
  return undefined;
}

function keyFileSigner(path: string): ServerSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (error) {
    // The message names the file and the reason only: never its content.
    throw new Error(
      `signingKey ${path}: not a readable PEM private key (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  const publicKey = publicKeyOf(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
  return {
    publicKey,
    source: 'key file',
    sign: async (payload, algorithm) => sign('sha256', payload, signOptions(privateKey, algorithm)),
  };
}

function signOptions(key: KeyObject, algorithm: SigningPlan['algorithm']) {
  if (algorithm === 'rsa-pss-sha256') {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN };
  }
  if (algorithm === 'ecdsa-sha256') return { key, dsaEncoding: 'der' as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

function commandSigner(command: string, publicKey: PublicKey): ServerSigner {
  return {
    publicKey,
    source: 'sign-command',
    sign: (payload, algorithm) => runSignCommand(command, payload, algorithm),
  };
}

function runSignCommand(command: string, payload: Uint8Array, algorithm: string): Promise<Buffer> {
  const env = {
    ...process.env,
    ESP_OTA_SIGN_SHA256: createHash('sha256').update(payload).digest('hex'),
    ESP_OTA_SIGN_ALGORITHM: algorithm,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env,
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: COMMAND_TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let length = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_SIGNATURE) chunks.push(chunk);
    });
    // The command may exit without reading its input; that is its business, not an error here.
    child.stdin.on('error', () => undefined);
    child.on('error', () => reject(signingUnavailable('the sign-command could not be started')));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(signingUnavailable(`the sign-command failed (${signal ? `signal ${signal}` : `exit status ${code}`})`));
      } else if (length === 0 || length > MAX_SIGNATURE) {
        reject(signingUnavailable(`the sign-command wrote ${length} bytes, which is no signature`));
      } else resolve(Buffer.concat(chunks));
    });
    child.stdin.end(payload);
  });
}

function signingUnavailable(message: string): DomainError {
  return new DomainError(
    'signing-unavailable',
    `${message}: nothing was kept; the server's signing setup needs attention`,
  );
}

function readPublicKey(path: string): PublicKey {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    throw new Error(`signingPublicKey ${path}: not readable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return publicKeyOf(text, `signingPublicKey ${path}`);
}

function publicKeyOf(pem: string, what = 'the signing key'): PublicKey {
  const parsed = parsePublicKey(pem);
  if (!parsed.ok) throw new Error(`${what}: ${parsed.error}`);
  return parsed.key;
}
