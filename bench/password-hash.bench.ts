/**
 * Is argon2 (a native addon) still worth its build against node:crypto's scrypt? Hashes the same password with
 * argon2id at the parameters the server uses (argon2's defaults: 64 MiB, 3 passes, 4 lanes; password-hasher.ts)
 * and with scrypt at the same memory (N=2^16, r=8, p=1: 64 MiB), alternating, and prints ms per hash and the ratio.
 * Run: node --import tsx bench/password-hash.bench.ts [rounds]
 */
import { randomBytes, scrypt } from 'node:crypto';
import argon2 from 'argon2';

const rounds = Number(process.argv[2] ?? 10);
const password = 'correct horse battery staple';

const scryptHash = (salt: Buffer) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, 32, { N: 2 ** 16, r: 8, p: 1, maxmem: 128 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// Warm-up: first calls load the addon and fault the memory in.
await argon2.hash(password, { type: argon2.argon2id });
await scryptHash(randomBytes(16));

const argonTimes: number[] = [];
const scryptTimes: number[] = [];
for (let i = 0; i < rounds; i++) {
  argonTimes.push(await time(() => argon2.hash(password, { type: argon2.argon2id })));
  scryptTimes.push(await time(() => scryptHash(randomBytes(16))));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const a = median(argonTimes);
const s = median(scryptTimes);
console.log(`node ${process.version}, ${rounds} hashes each, median ms per hash`);
console.log(`argon2id (64 MiB, t=3, p=4): ${a.toFixed(1)} ms`);
console.log(`scrypt   (64 MiB, N=2^16, r=8, p=1): ${s.toFixed(1)} ms`);
console.log(`argon2id / scrypt: ${(a / s).toFixed(2)}`);
