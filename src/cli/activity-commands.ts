import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import {
  clientAction,
  clientOf,
  fixedRow,
  printJson,
  printTable,
  wantsJson,
  wholeNumber,
  withJson,
} from './client-kit.js';
import type { CliIo, CliState } from './program.js';

interface DeviceJson {
  mac: string;
  platform: string | null;
  version: string | null;
  ip: string | null;
  lastSeenAt: string;
  lastDecision: string | null;
  lastReason: string | null;
  status: string | null;
}
interface EventJson {
  id: number;
  at: string;
  type: string;
  platform: string | null;
  mac: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  decision: string | null;
  reason: string | null;
  actor: string | null;
  occurrences: number;
}

const EVENT_HEADER = ['ID', 'AT', 'TYPE', 'PLATFORM', 'MAC', 'VERSION', 'REASON', 'BY'];
/** Fixed widths for `events -f`, whose rows arrive a few at a time. */
const EVENT_WIDTHS = [7, 24, 16, 14, 17, 18, 20];
const ROW_ID = wholeNumber(0, Number.MAX_SAFE_INTEGER);

function eventRow(e: EventJson): string[] {
  const versions = e.fromVersion || e.toVersion ? `${e.fromVersion ?? ''}→${e.toVersion ?? ''}` : '';
  const times = e.occurrences > 1 ? ` ×${e.occurrences}` : '';
  return [
    String(e.id),
    e.at,
    e.type + times,
    e.platform ?? '',
    e.mac ?? '',
    versions,
    e.reason ?? e.decision ?? '',
    e.actor ?? '',
  ];
}

interface EventOptions {
  platform?: string;
  mac?: string;
  type?: string;
  decision?: string;
  limit: string;
  before?: string;
  after?: string;
  follow?: boolean;
  interval: string;
  json?: boolean;
}

function eventQuery(options: EventOptions): URLSearchParams {
  const query = new URLSearchParams({ limit: options.limit });
  for (const key of ['platform', 'mac', 'type', 'decision', 'before', 'after'] as const) {
    const value = options[key];
    if (value !== undefined) query.set(key, value);
  }
  return query;
}

/**
 * `events -f`: prints the newest events oldest first, then asks every interval for events after the last id seen
 * (the API answers pages newest first; they are printed oldest first) until SIGINT/SIGTERM.
 */
async function followEvents(io: CliIo, client: ApiClient, options: EventOptions): Promise<void> {
  const print = (e: EventJson) =>
    io.out.write(options.json ? `${JSON.stringify(e)}\n` : `${fixedRow(eventRow(e), EVENT_WIDTHS)}\n`);
  const first = await client.request<{ events: EventJson[] }>('GET', `/api/v1/events?${eventQuery(options)}`);
  if (!options.json) io.out.write(`${fixedRow(EVENT_HEADER, EVENT_WIDTHS)}\n`);
  let last = Number(options.after ?? 0);
  for (const e of first.events.reverse()) {
    print(e);
    last = Math.max(last, e.id);
  }
  let stop: () => void = () => undefined;
  let stopped = false;
  const onSignal = () => {
    stopped = true;
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Number(options.interval) * 1000);
        stop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      const query = eventQuery({ ...options, before: undefined, after: String(last), limit: '1000' });
      const { events } = await client.request<{ events: EventJson[] }>('GET', `/api/v1/events?${query}`);
      for (const e of events.sort((a, b) => a.id - b.id)) {
        print(e);
        last = Math.max(last, e.id);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `esp-ota devices` and `esp-ota events`: what the fleet did, over the REST API. */
export function registerActivityCommands(program: Command, io: CliIo, state: CliState): void {
  const action = (work: Parameters<typeof clientAction>[2]) => clientAction(io, state, work);

  withJson(
    program
      .command('devices')
      .description('list devices, most recently seen first')
      .option('--platform <name>', 'only this platform’s devices')
      .option('--outdated', 'only devices not on the version their platform moves them to')
      .option('--seen-within <hours>', 'only devices seen in the last <hours> hours', wholeNumber(0, 876_000))
      .option('--limit <n>', 'at most this many', wholeNumber(1, 5000), '500'),
  ).action(
    action(async (command) => {
      const options = command.opts<{ platform?: string; outdated?: boolean; seenWithin?: string; limit: string }>();
      const query = new URLSearchParams({ limit: options.limit });
      if (options.platform) query.set('platform', options.platform);
      if (options.outdated) query.set('outdated', 'true');
      if (options.seenWithin !== undefined) query.set('seenWithinHours', options.seenWithin);
      const { devices } = await clientOf(command).request<{ devices: DeviceJson[] }>('GET', `/api/v1/devices?${query}`);
      if (wantsJson(command)) return printJson(io, devices);
      printTable(
        io,
        ['MAC', 'PLATFORM', 'VERSION', 'STATUS', 'LAST SEEN', 'LAST ANSWER'],
        devices.map((d) => [d.mac, d.platform, d.version, d.status, d.lastSeenAt, d.lastReason ?? d.lastDecision]),
        'no devices match' + (query.size > 1 ? ' these filters' : ' (none has checked in yet)'),
      );
    }),
  );

  withJson(
    program
      .command('events')
      .description('show the newest events; -f keeps printing new ones until Ctrl-C')
      .option('--platform <name>', 'only this platform’s events')
      .option('--mac <mac>', 'only this device’s events')
      .option('--type <type>', 'only events of this type (check, download, upload, release, …)')
      .option('--decision <decision>', 'only checks answered this way')
      .option('--limit <n>', 'how many', wholeNumber(1, 1000), '50')
      .option('--before <id>', 'only events older than this id (the next page)', ROW_ID)
      .option('--after <id>', 'only events newer than this id', ROW_ID)
      .option('-f, --follow', 'keep printing new events as they happen, until Ctrl-C')
      .option('--interval <seconds>', 'how often -f asks for new events', wholeNumber(1, 3600), '2'),
  ).action(
    action(async (command) => {
      const options = command.opts<EventOptions>();
      const client = clientOf(command);
      if (options.follow) return followEvents(io, client, options);
      const { events } = await client.request<{ events: EventJson[] }>('GET', `/api/v1/events?${eventQuery(options)}`);
      if (options.json) return printJson(io, events);
      printTable(io, EVENT_HEADER, events.map(eventRow), 'no events match');
    }),
  );
}
