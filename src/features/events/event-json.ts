import type { NewEvent } from '../../db/tables.js';
import { formatMac } from '../../lib/mac.js';

/** An event of the log as other systems receive it (the MQTT events topic, webhook bodies). */
export function eventJson(event: NewEvent) {
  return {
    type: event.type,
    at: new Date(event.at).toISOString(),
    platform: event.platform_name ?? null,
    mac: event.mac ? formatMac(event.mac) : null,
    from: event.from_version ?? null,
    to: event.to_version ?? null,
    decision: event.decision ?? null,
    reason: event.reason ?? null,
    detail: event.detail ?? null,
    status: event.status ?? null,
    occurrences: event.occurrences ?? 1,
    actor: event.actor ?? null,
  };
}
