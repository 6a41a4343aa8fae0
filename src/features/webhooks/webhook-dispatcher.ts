import { createHmac, randomUUID } from 'node:crypto';
import type { NewEvent, WebhookRow } from '../../db/tables.js';
import type { DomainEvent } from '../events/domain-events.js';
import { eventJson } from '../events/event-json.js';
import type { NewDelivery } from './webhook-store.js';

export interface WebhookDispatcherOptions {
  /** Waits before the 2nd, 3rd, … attempt; after the last, the delivery is given up and logged as failed. */
  retryDelaysMs: readonly number[];
  /** One attempt's time limit. */
  timeoutMs: number;
  /** Deliveries waiting across all hooks; beyond it new ones are dropped and counted. */
  queueLimit: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookDispatcherOptions = {
  retryDelaysMs: [1_000, 5_000, 30_000, 120_000, 600_000],
  timeoutMs: 10_000,
  queueLimit: 10_000,
};

interface Deps {
  hooks(): Promise<WebhookRow[]>;
  record(delivery: NewDelivery): Promise<void>;
  now(): number;
  log: { warn(object: unknown, message: string): void; error(object: unknown, message: string): void };
}

interface Hook {
  row: WebhookRow;
  types: ReadonlySet<string>;
}

/** The last delivery per hook, for the UI. */
export interface LastDelivery {
  outcome: 'delivered' | 'failed';
  at: number;
  httpStatus: number | null;
}

/**
 * Sends the event log to webhooks: each event a hook wants is POSTed as JSON with `X-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the body under the hook's secret; a non-2xx answer or no answer is tried again after each of
 * `retryDelaysMs`. Events of one platform reach a hook in the order they happened (one lane per hook and platform:
 * an event waits until the one before it was delivered or given up). It hears events through the domain events,
 * once committed, and works on its own timers: nothing waits for it. Waiting deliveries live in memory: a restart
 * loses them (the delivery log says what was delivered).
 */
export class WebhookDispatcher {
  private hooks: Hook[] = [];
  private loaded: Promise<void> = Promise.resolve();
  private readonly lanes = new Map<string, NewEvent[]>();
  private readonly running = new Map<string, Promise<void>>();
  private waiting = 0;
  private closed = false;
  dropped = 0;
  readonly last = new Map<number, LastDelivery>();

  constructor(
    private readonly deps: Deps,
    private readonly options: WebhookDispatcherOptions = DEFAULT_WEBHOOK_OPTIONS,
  ) {}

  /** (Re)reads the list of hooks (at start and after a person changed it). */
  reload(): Promise<void> {
    this.loaded = this.loaded.then(async () => {
      try {
        this.hooks = (await this.deps.hooks()).map((row) => ({
          row,
          types: new Set(JSON.parse(row.event_types) as string[]),
        }));
      } catch (err) {
        this.deps.log.error({ err }, 'could not read the webhooks');
      }
    });
    return this.loaded;
  }

  handle(event: DomainEvent): void {
    if (event.kind !== 'recorded' || this.closed) return;
    for (const hook of this.hooks) {
      if (hook.types.size > 0 && !hook.types.has(event.event.type)) continue;
      if (this.waiting >= this.options.queueLimit) {
        this.dropped++;
        continue;
      }
      const lane = `${hook.row.id}|${event.event.platform_name ?? ''}`;
      const queue = this.lanes.get(lane) ?? [];
      queue.push(event.event);
      this.lanes.set(lane, queue);
      this.waiting++;
      if (!this.running.has(lane)) this.running.set(lane, this.drain(lane, hook.row));
    }
  }

  /** Resolves when every queued delivery was delivered or given up (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  close(): void {
    this.closed = true;
  }

  private async drain(lane: string, hook: WebhookRow): Promise<void> {
    const queue = this.lanes.get(lane)!;
    while (queue.length > 0 && !this.closed) {
      const event = queue[0]!;
      await this.deliver(hook, event);
      queue.shift();
      this.waiting--;
    }
    this.lanes.delete(lane);
    this.running.delete(lane);
  }

  private async deliver(hook: WebhookRow, event: NewEvent): Promise<void> {
    const delivery = randomUUID();
    const body = JSON.stringify({ webhook: Number(hook.id), delivery, event: eventJson(event) });
    const signature = `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
    let attempts = 0;
    let httpStatus: number | null = null;
    let error: string | null = null;
    for (;;) {
      attempts++;
      try {
        const response = await fetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-signature': signature,
            'x-esp-ota-event': event.type,
            'x-esp-ota-delivery': delivery,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        httpStatus = response.status;
        error = response.ok ? null : `HTTP ${response.status}`;
      } catch (err) {
        httpStatus = null;
        error = describe(err);
      }
      if (error === null || this.closed) break;
      const wait = this.options.retryDelaysMs[attempts - 1];
      if (wait === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
    const outcome = error === null ? 'delivered' : 'failed';
    const finishedAt = this.deps.now();
    this.last.set(Number(hook.id), { outcome, at: finishedAt, httpStatus });
    if (outcome === 'failed')
      this.deps.log.warn({ webhook: Number(hook.id), attempts, error }, 'a webhook delivery failed');
    await this.deps
      .record({
        webhook_id: Number(hook.id),
        event_type: event.type,
        platform_name: event.platform_name ?? null,
        event_at: event.at,
        outcome,
        attempts,
        http_status: httpStatus,
        error,
        finished_at: finishedAt,
      })
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not write a webhook delivery'));
  }
}

/** Why an attempt failed, without the URL (its path or query may be a secret). */
function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    return cause?.code ?? err.name;
  }
  return 'failed';
}
