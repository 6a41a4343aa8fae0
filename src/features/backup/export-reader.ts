import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { CATALOGUE_FILE, EXPORT_FORMAT, type ExportedCatalogue } from './export-format.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const CatalogueSchema = Type.Object({
  format: Type.Literal(EXPORT_FORMAT),
  exportedAt: Type.String(),
  platforms: Type.Array(
    Type.Object({
      name: Type.String(),
      chip: Nullable(Type.String()),
      accessMode: Type.Union([Type.Literal('allowlist'), Type.Literal('open')]),
      fsPartitionSize: Nullable(Type.Integer({ minimum: 1 })),
      releasedApp: Nullable(Type.String()),
      releasedFilesystem: Nullable(Type.String()),
      releasePinned: Type.Boolean(),
      // Checked by the rules PATCH applies (export-values.ts); absent in exports made before issue 12.
      releasePolicy: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('rollout')])),
      rolloutTemplate: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
      updateWindow: Type.Optional(
        Nullable(Type.Object({ from: Type.String(), to: Type.String(), timeZone: Type.String() })),
      ),
      esp8266Gzip: Type.Optional(Type.Union([Type.Literal('off'), Type.Literal('auto'), Type.Literal('on')])),
      minimalPlatform: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
      deviceAuth: Type.Union([Type.Literal('off'), Type.Literal('basic'), Type.Literal('token')]),
      deviceUser: Nullable(Type.String({ maxLength: 64 })),
      deviceSecretHash: Nullable(Type.String({ pattern: '^[0-9a-f]{64}$' })),
      allowlist: Type.Array(
        Type.Object({
          mac: Type.String(),
          label: Nullable(Type.String()),
          secretHash: Nullable(Type.String({ pattern: '^[0-9a-f]{64}$' })),
        }),
      ),
      images: Type.Array(
        Type.Object({
          kind: Type.Union([Type.Literal('app'), Type.Literal('filesystem')]),
          version: Type.String(), // checked by the version rule, as uploads are (export-values.ts)
          // Only this exact shape: nothing in the file can name a path outside the export.
          file: Type.String({ pattern: '^firmware/[0-9a-f]{64}\\.bin$' }),
          sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
          md5: Type.String(),
          size: Type.Integer({ minimum: 0 }),
          filename: Nullable(Type.String()),
          uploadedAt: Type.String(),
          installAsset: Type.Optional(
            Type.Object({
              layout: Type.Union([Type.Literal('factory'), Type.Literal('parts')]),
              createdBy: Type.String({ minLength: 1, maxLength: 128 }),
              createdAt: Type.String(),
              parts: Type.Array(
                Type.Object({
                  role: Type.Union([
                    Type.Literal('factory'),
                    Type.Literal('bootloader'),
                    Type.Literal('partition-table'),
                    Type.Literal('app'),
                  ]),
                  file: Type.String({ pattern: '^firmware/[0-9a-f]{64}\\.bin$' }),
                  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
                }),
                { maxItems: 3 },
              ),
            }),
          ),
        }),
      ),
      groups: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            excluded: Type.Boolean(),
            pinnedVersion: Nullable(Type.String()),
            macs: Type.Array(Type.String()),
          }),
        ),
      ),
      pins: Type.Optional(Type.Array(Type.Object({ mac: Type.String(), version: Type.String() }))),
      flashMode: Type.Optional(Type.String()),
      trustedKeys: Type.Optional(
        Type.Array(
          Type.Object({
            pem: Type.String(),
            label: Type.Union([Type.String(), Type.Null()]),
            createdBy: Type.String(),
            createdAt: Type.String(),
          }),
        ),
      ),
      deviceKeys: Type.Optional(
        Type.Array(
          Type.Object({ mac: Type.String(), key: Type.String(), createdBy: Type.String(), createdAt: Type.String() }),
        ),
      ),
    }),
  ),
});

export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`nothing was imported:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The largest `catalogue.yaml` read: about 30,000 images' worth of YAML. */
export const CATALOGUE_LIMIT = 16 * 1024 * 1024;

/**
 * Reads one file of an export, after making sure it is a plain file of at most `limit` bytes: a FIFO would block the
 * read forever and a huge file would be held in memory whole. Returns the problem as a sentence instead of bytes.
 */
export async function readExportFile(dir: string, name: string, limit: number, what: string): Promise<Buffer | string> {
  const path = join(dir, name);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error)
    return `${name} ${info.code === 'ENOENT' ? 'is missing' : `cannot be read (${info.code})`}`;
  if (!info.isFile()) return `${name} is not a plain file`;
  if (info.size > limit) return `${name}: ${info.size} bytes, more than ${what} (${limit} bytes)`;
  try {
    const bytes = await readFile(path);
    // It may have grown since: the limit is on what is read.
    return bytes.length > limit ? `${name}: more than ${what} (${limit} bytes)` : bytes;
  } catch (error) {
    return `${name} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** Reads an export's `catalogue.yaml` and checks its shape; what the values mean is checked by the import. */
export async function readExport(dir: string): Promise<ExportedCatalogue> {
  const bytes = await readExportFile(dir, CATALOGUE_FILE, CATALOGUE_LIMIT, 'a catalogue may have');
  if (typeof bytes === 'string') throw new ImportError([bytes]);
  let data: unknown;
  try {
    data = parseYaml(bytes.toString('utf8'));
  } catch (error) {
    throw new ImportError([`${CATALOGUE_FILE}: ${(error as Error).message.split('\n')[0]}`]);
  }
  const errors = [...Value.Errors(CatalogueSchema, data)].slice(0, 20);
  if (errors.length > 0)
    throw new ImportError(errors.map((e) => `${CATALOGUE_FILE}${e.instancePath || '/'}: ${e.message}`));
  return data as ExportedCatalogue;
}
