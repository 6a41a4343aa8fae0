import { readFile } from 'node:fs/promises';
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
        }),
      ),
    }),
  ),
});

export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`nothing was imported:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads an export's `catalogue.yaml` and checks its shape; what the values mean is checked by the import. */
export async function readExport(dir: string): Promise<ExportedCatalogue> {
  let text: string;
  try {
    text = await readFile(join(dir, CATALOGUE_FILE), 'utf8');
  } catch (error) {
    throw new ImportError([
      `${CATALOGUE_FILE}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    ]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new ImportError([`${CATALOGUE_FILE}: ${(error as Error).message.split('\n')[0]}`]);
  }
  const errors = [...Value.Errors(CatalogueSchema, data)].slice(0, 20);
  if (errors.length > 0)
    throw new ImportError(errors.map((e) => `${CATALOGUE_FILE}${e.instancePath || '/'}: ${e.message}`));
  return data as ExportedCatalogue;
}
