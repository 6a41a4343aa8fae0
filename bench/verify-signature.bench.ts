/**
 * Signature verification cost: the OpenDTU image from ../shared/firmware (1.8 MB), signed here in the arduino-esp32
 * layout (image ‖ signature padded to 512 bytes) with freshly generated keys, verified with `inspectSignature` as
 * an upload would be. Prints ms per verification for RSA-2048, RSA-3072 and ECDSA P-256; the target is ≤ 20 ms.
 * Run: npm run bench:signature
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { analyzeImage } from '../src/firmware-image/index.js';
import { inspectSignature } from '../src/firmware-image/signature/inspect-signature.js';
import { describeKey } from '../src/firmware-image/signature/public-key.js';
import { CORPUS_AVAILABLE, FIRMWARE_DIR, readFirmware } from '../test/helpers/firmware-corpus.js';

const IMAGE = 'eu-gh__OpenDTU-OnBattery-FwBuilds__firmware.bin';
const TARGET_MS = 20;

if (!CORPUS_AVAILABLE) {
  console.error(`no firmware corpus at ${FIRMWARE_DIR}`);
  process.exit(1);
}
const image = readFirmware(IMAGE);

interface Case {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  signature: (data: Buffer, key: KeyObject) => Buffer;
}

const pss = (data: Buffer, key: KeyObject) =>
  sign('sha256', data, {
    key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
  });
const cases: Case[] = [
  { name: 'RSA-2048 PSS', ...generateKeyPairSync('rsa', { modulusLength: 2048 }), signature: pss },
  { name: 'RSA-3072 PSS', ...generateKeyPairSync('rsa', { modulusLength: 3072 }), signature: pss },
  {
    name: 'ECDSA P-256',
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    signature: (data, key) => sign('sha256', data, key),
  },
];

console.log(`image: ${IMAGE} (${image.length} bytes), arduino-esp32 layout, SHA-256`);
for (const { name, privateKey, publicKey, signature } of cases) {
  const sig = signature(image, privateKey);
  const signed = Buffer.concat([image, sig, Buffer.alloc(512 - sig.length)]);
  const analysis = analyzeImage(signed);
  const key = describeKey(publicKey);
  if (!key.ok) throw new Error(key.error);
  const once = () => inspectSignature(signed, analysis, [key.key]);
  if (!once().verified) throw new Error(`${name}: the signed image does not verify`);
  for (let i = 0; i < 10; i++) once(); // warm up
  const rounds = 50;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) once();
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / rounds;
  console.log(
    `${name.padEnd(13)} ${ms.toFixed(2).padStart(6)} ms per verification, ${(ms / TARGET_MS).toFixed(2)} × the ${TARGET_MS} ms target`,
  );
}
