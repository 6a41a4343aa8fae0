import { randomBytes } from 'node:crypto';
import type { WebhookDeliveryRow, WebhookRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import type { Catalogue } from '../catalogue.js';

/** A webhook as admins see it: never its secret (shown once, when it is added). */
export interface WebhookView {
  id: number;
  url: string;
  events: string[];
  createdAt: number;
  createdBy: string;
}

export interface WebhookInput {
  url: string;
  /** Signs each body; a random one when none is given (returned once). */
  secret?: string | undefined;
  /** Event types it wants (e.g. `upload`, `release`, `rollout-started`, `rollout-updated`); none: all. */
  events?: string[] | undefined;
}

export interface DeliveryView {
  id: number;
  eventType: string;
  platform: string | null;
  eventAt: number;
  outcome: 'delivered' | 'failed';
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  finishedAt: number;
}

const EVENT_TYPE = /^[a-z][a-z0-9-]{0,63}$/;
const MAX_EVENT_TYPES = 50;

/** Adding and removing webhooks (admins), each recorded as an event with its actor; reading their deliveries. */
export class WebhookService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    /** The dispatcher reloads its list of hooks. */
    private readonly changed: () => void,
  ) {}

  async list(): Promise<WebhookView[]> {
    return (await this.catalogue.stores.webhooks.list()).map(webhookView);
  }

  async add(input: WebhookInput, actor: string): Promise<{ webhook: WebhookView; secret: string }> {
    const url = validUrl(input.url);
    const secret = input.secret ?? randomBytes(24).toString('hex');
    if (secret.length < 16 || secret.length > 200)
      throw new DomainError('bad-request', 'secret is 16 to 200 characters (or leave it out for a random one)');
    const events = [...new Set(input.events ?? [])];
    if (events.length > MAX_EVENT_TYPES || !events.every((type) => EVENT_TYPE.test(type)))
      throw new DomainError(
        'bad-request',
        `events is a list of at most ${MAX_EVENT_TYPES} event types such as upload, release`,
      );
    const now = this.clock.now();
    const row = await this.catalogue.transact(async (stores) => {
      const inserted = await stores.webhooks.insert({
        url: url.toString(),
        secret,
        event_types: JSON.stringify(events),
        created_at: now,
        created_by: actor,
      });
      // The event names the host only: a hook's path or query may itself be a secret (as chat services' are).
      await stores.events.append([webhookEvent(now, 'webhook-added', actor, `webhook ${inserted.id} to ${url.host}`)]);
      return inserted;
    });
    this.changed();
    return { webhook: webhookView(row), secret };
  }

  async remove(id: number, actor: string): Promise<void> {
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const hook = await stores.webhooks.find(id);
      if (!hook || !(await stores.webhooks.delete(id)))
        throw new DomainError('unknown-webhook', `there is no webhook ${id}`);
      await stores.events.append([
        webhookEvent(now, 'webhook-removed', actor, `webhook ${id} to ${new URL(hook.url).host}`),
      ]);
    });
    this.changed();
  }

  async deliveries(id: number, limit: number): Promise<DeliveryView[]> {
    if (!(await this.catalogue.stores.webhooks.find(id)))
      throw new DomainError('unknown-webhook', `there is no webhook ${id}`);
    return (await this.catalogue.stores.webhooks.deliveries(id, limit)).map(deliveryView);
  }
}

function validUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DomainError('bad-request', 'url must be an http:// or https:// URL');
  }
  if (!/^https?:$/.test(url.protocol) || text.length > 2000)
    throw new DomainError('bad-request', 'url must be an http:// or https:// URL of at most 2000 characters');
  if (url.username || url.password)
    throw new DomainError('bad-request', 'url must not carry a user or password; the receiver checks X-Signature');
  return url;
}

function webhookEvent(at: number, type: string, actor: string, detail: string) {
  return {
    at,
    type,
    platform_name: null,
    mac: null,
    from_version: null,
    to_version: null,
    decision: null,
    reason: null,
    actor,
    detail,
  };
}

export function webhookView(row: WebhookRow): WebhookView {
  return {
    id: Number(row.id),
    url: row.url,
    events: JSON.parse(row.event_types) as string[],
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
  };
}

function deliveryView(row: WebhookDeliveryRow): DeliveryView {
  return {
    id: Number(row.id),
    eventType: row.event_type,
    platform: row.platform_name,
    eventAt: Number(row.event_at),
    outcome: row.outcome,
    attempts: row.attempts,
    httpStatus: row.http_status,
    error: row.error,
    finishedAt: Number(row.finished_at),
  };
}
