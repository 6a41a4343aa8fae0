import type { Kysely } from 'kysely';

/**
 * Before this migration, a platform change was logged with the request body as its detail, so a device secret set
 * through the API or the settings form stood in clear in the event log, which every viewer reads. Those details are
 * rewritten to name the settings that were sent and say that the secret changed; new events never carry the
 * request (features/platforms/platform-change.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const events = db as unknown as Kysely<{ events: { id: number; type: string; detail: string | null } }>;
  const leaked = await events
    .selectFrom('events')
    .select(['id', 'detail'])
    .where('type', '=', 'platform-updated')
    .where('detail', 'like', '%deviceSecret%')
    .execute();
  for (const event of leaked) {
    const detail = withoutSecret(event.detail!);
    if (detail !== undefined) await events.updateTable('events').set({ detail }).where('id', '=', event.id).execute();
  }
}

/** `{"deviceSecret":"…","deviceAuth":"token"}` → `deviceAuth: token; device secret changed`; undefined if no secret. */
function withoutSecret(detail: string): string | undefined {
  let changes: unknown;
  try {
    changes = JSON.parse(detail);
  } catch {
    return undefined;
  }
  if (typeof changes !== 'object' || changes === null || !('deviceSecret' in changes)) return undefined;
  const { deviceSecret, ...rest } = changes as Record<string, unknown>;
  const parts = Object.entries(rest).map(([name, value]) => `${name}: ${value === null ? 'none' : String(value)}`);
  parts.push(deviceSecret ? 'device secret changed' : 'device secret removed');
  return parts.join('; ');
}
