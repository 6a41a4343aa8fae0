import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientAction, clientOf, printJson, printTable, wantsJson, withJson } from './client-kit.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

interface KeyJson {
  id: number;
  digest: string;
  type: string;
  bits: number;
  label: string | null;
  addedBy: string;
  addedAt: string;
}
interface EmbeddedKeyJson {
  digest: string;
  type: string;
  bits: number;
  offset: number;
}

const enc = encodeURIComponent;

/**
 * `esp-ota key …`: the public keys a platform's boards trust (docs/security.md), over the REST API. Only public keys
 * are ever sent: the server refuses a private key, and this command never reads one.
 */
export function registerKeyCommands(program: Command, io: CliIo, state: CliState): void {
  const action = (work: Parameters<typeof clientAction>[2]) => clientAction(io, state, work);
  const key = program.command('key').description('manage the signing keys a platform trusts (signed firmware)');

  withJson(key.command('list <platform>').description('the public keys the platform’s boards trust')).action(
    action(async (command, name) => {
      const { keys } = await clientOf(command).request<{ keys: KeyJson[] }>(
        'GET',
        `/api/v1/platforms/${enc(name!)}/keys`,
      );
      if (wantsJson(command)) return printJson(io, keys);
      printTable(
        io,
        ['ID', 'DIGEST (SHA-256 OF THE KEY)', 'TYPE', 'LABEL', 'ADDED'],
        keys.map((k) => [k.id, k.digest, `${k.type}-${k.bits}`, k.label, `${k.addedAt} by ${k.addedBy}`]),
        `${name} trusts no key: any image is taken; add one with \`esp-ota key add ${name} public.pem\``,
      );
    }),
  );

  key
    .command('add <platform> <pem-file>')
    .description('trust a public key (PEM file, or - for stdin); from then on uploads must be signed by a trusted key')
    .option('--label <label>', 'a name for the key')
    .action(
      action(async (command, name, file) => {
        let pem: string;
        try {
          pem = file === '-' ? await readStdin() : await readFile(file!, 'utf8');
        } catch (error) {
          throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
        }
        const label = command.opts<{ label?: string }>().label;
        const added = await clientOf(command).request<KeyJson>('POST', `/api/v1/platforms/${enc(name!)}/keys`, {
          pem,
          ...(label ? { label } : {}),
        });
        io.out.write(`${name} now trusts ${added.type}-${added.bits} key ${added.digest} (id ${added.id})\n`);
      }),
    );

  withJson(
    key.command('offered <platform> <image-id>').description('public keys an uploaded image carries (to adopt)'),
  ).action(
    action(async (command, name, id) => {
      const { keys } = await clientOf(command).request<{ keys: EmbeddedKeyJson[] }>(
        'GET',
        `/api/v1/platforms/${enc(name!)}/images/${enc(id!)}/embedded-keys`,
      );
      if (wantsJson(command)) return printJson(io, keys);
      printTable(
        io,
        ['DIGEST', 'TYPE', 'AT BYTE'],
        keys.map((k) => [k.digest, `${k.type}-${k.bits}`, k.offset]),
        `image ${id} carries no public key`,
      );
    }),
  );

  key
    .command('adopt <platform> <image-id>')
    .description('trust the public key an uploaded image carries (a sketch built for signing has it compiled in)')
    .option('--digest <hex>', 'which key, when the image carries several')
    .action(
      action(async (command, name, id) => {
        const digest = command.opts<{ digest?: string }>().digest;
        const imageId = Number(id);
        if (!Number.isSafeInteger(imageId) || imageId < 1) throw new CliError(`"${id}" is not an image id`, EXIT.usage);
        const added = await clientOf(command).request<KeyJson>('POST', `/api/v1/platforms/${enc(name!)}/keys/adopt`, {
          imageId,
          ...(digest ? { digest } : {}),
        });
        io.out.write(`${name} now trusts ${added.type}-${added.bits} key ${added.digest} (id ${added.id})\n`);
      }),
    );

  key
    .command('rm <platform> <key-id>')
    .description('stop trusting a key')
    .action(
      action(async (command, name, id) => {
        await clientOf(command).request('DELETE', `/api/v1/platforms/${enc(name!)}/keys/${enc(id!)}`);
        io.out.write(`${name} no longer trusts key ${id}\n`);
      }),
    );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
