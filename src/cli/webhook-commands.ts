import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import type { CliIo, CliState } from './program.js';

interface WebhookJson {
  id: number;
  url: string;
  events: string[];
  createdBy: string;
  lastDelivery: { outcome: string; at: number; httpStatus: number | null } | null;
}
interface DeliveryJson {
  eventType: string;
  platform: string | null;
  outcome: string;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  finishedAt: number;
}

const DEFAULT_SERVER = 'http://localhost:8080';

/** `esp-ota webhook list|add|remove|deliveries`: server-wide webhooks (admins), over the REST API. */
export function registerWebhookCommands(program: Command, io: CliIo, state: CliState): void {
  const client = (command: Command) => {
    const options = command.optsWithGlobals() as { server?: string; token?: string };
    return new ApiClient(
      options.server ?? process.env.ESP_OTA_URL ?? DEFAULT_SERVER,
      options.token ?? process.env.ESP_OTA_TOKEN,
    );
  };
  const run = (work: (command: Command, ...args: string[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      try {
        await work(this, ...(args.filter((a) => typeof a === 'string') as string[]));
      } catch (error) {
        io.err.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        state.exitCode = 1;
      }
    };
  const json = (command: Command) => command.opts<{ json?: boolean }>().json === true;
  const print = (value: unknown): void => void io.out.write(JSON.stringify(value, null, 2) + '\n');

  const webhook = program
    .command('webhook')
    .description('webhooks: endpoints that receive events as signed JSON (admins)');

  webhook
    .command('list')
    .description('webhooks with their event filter and last delivery')
    .option('--json', 'print JSON')
    .action(
      run(async (command) => {
        const { webhooks } = await client(command).request<{ webhooks: WebhookJson[] }>('GET', '/api/v1/webhooks');
        if (json(command)) return print(webhooks);
        if (webhooks.length === 0) return void io.out.write('no webhooks\n');
        for (const hook of webhooks) {
          const last = hook.lastDelivery
            ? `${hook.lastDelivery.outcome} ${new Date(hook.lastDelivery.at).toISOString()}`
            : 'none yet';
          io.out.write(`${hook.id}  ${hook.url}  events: ${hook.events.join(',') || 'all'}  last delivery: ${last}\n`);
        }
      }),
    );

  webhook
    .command('add <url>')
    .description('add a webhook; prints its secret (shown this once) for checking X-Signature')
    .option('--events <types>', 'comma-separated event types (upload,release,rollout-started,…); default: all')
    .option('--secret <secret>', 'the signing secret (16 to 200 characters); default: a random one')
    .option('--json', 'print JSON')
    .action(
      run(async (command, url) => {
        const options = command.opts<{ events?: string; secret?: string }>();
        const body = {
          url,
          ...(options.events
            ? {
                events: options.events
                  .split(',')
                  .map((e) => e.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(options.secret ? { secret: options.secret } : {}),
        };
        const added = await client(command).request<{ webhook: WebhookJson; secret: string }>(
          'POST',
          '/api/v1/webhooks',
          body,
        );
        if (json(command)) return print(added);
        io.out.write(`added webhook ${added.webhook.id}\nsecret: ${added.secret}\n`);
      }),
    );

  webhook
    .command('remove <id>')
    .description('remove a webhook and its delivery log')
    .action(
      run(async (command, id) => {
        await client(command).request('DELETE', `/api/v1/webhooks/${encodeURIComponent(id!)}`);
        io.out.write(`removed webhook ${id}\n`);
      }),
    );

  webhook
    .command('deliveries <id>')
    .description("a webhook's delivery log, newest first")
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(
      run(async (command, id) => {
        const limit = command.opts<{ limit: string }>().limit;
        const { deliveries } = await client(command).request<{ deliveries: DeliveryJson[] }>(
          'GET',
          `/api/v1/webhooks/${encodeURIComponent(id!)}/deliveries?limit=${encodeURIComponent(limit)}`,
        );
        if (json(command)) return print(deliveries);
        for (const d of deliveries) {
          io.out.write(
            `${new Date(d.finishedAt).toISOString()}  ${d.outcome}  ${d.eventType}  ${d.platform ?? '-'}  attempts ${d.attempts}  ${d.httpStatus ?? d.error ?? ''}\n`,
          );
        }
      }),
    );
}
