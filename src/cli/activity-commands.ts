import { Option, type Command } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
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
interface DeviceListJson {
  devices: (DeviceJson & { label: string | null })[];
  next: string | null;
  previous: string | null;
  count: number;
  countIsLowerBound: boolean;
}

/** The statuses the server stores (features/fleet/device-status.ts); the server checks them too. */
const DEVICE_STATUS_NAMES = ['current', 'outdated', 'newer', 'unknown', 'refused'];

interface DeviceOptions {
  platform?: string;
  status?: string;
  outdated?: boolean;
  version?: string;
  chip?: string;
  seenWithin?: string;
  search?: string;
  sort: string;
  reverse?: boolean;
  after?: string;
  before?: string;
  limit: string;
}

function deviceQuery(options: DeviceOptions): URLSearchParams {
  const query = new URLSearchParams({ limit: options.limit, sort: options.sort });
  const newestFirst = options.sort === 'seen';
  query.set('dir', newestFirst !== (options.reverse === true) ? 'desc' : 'asc');
  if (options.status !== undefined) {
    const unknown = options.status.split(',').find((s) => !DEVICE_STATUS_NAMES.includes(s.trim()));
    if (unknown !== undefined) {
      throw new CliError(`--status: "${unknown}" is not one of ${DEVICE_STATUS_NAMES.join(', ')}`, EXIT.usage);
    }
    query.set('status', options.status);
  }
  if (options.outdated) query.set('outdated', 'true');
  if (options.seenWithin !== undefined) query.set('seenWithinHours', options.seenWithin);
  for (const key of ['platform', 'version', 'chip', 'search', 'after', 'before'] as const) {
    const value = options[key];
    if (value !== undefined) query.set(key, value);
  }
  return query;
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
  macContains?: string;
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
  for (const key of ['platform', 'mac', 'macContains', 'type', 'decision', 'before', 'after'] as const) {
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
      .description('list devices (filtered, sorted and paged by the server), most recently seen first')
      .option('--platform <name>', 'only this platform’s devices')
      .option('--status <list>', `only devices with these statuses, comma-separated: ${DEVICE_STATUS_NAMES.join(', ')}`)
      .option('--outdated', 'only devices running an older version than their platform moves them to')
      .option('--version <text>', 'only devices reporting exactly this version')
      .addOption(new Option('--chip <chip>', 'only devices with this chip').choices(['esp8266', 'esp32']))
      .option('--seen-within <hours>', 'only devices seen in the last <hours> hours', wholeNumber(0, 876_000))
      .option('--search <text>', 'part of a MAC (any format) or of an allowlist label')
      .addOption(
        new Option('--sort <order>', 'seen (newest first), mac, or version (as versions compare)')
          .choices(['seen', 'mac', 'version'])
          .default('seen'),
      )
      .option('--reverse', 'the other direction (oldest first, MACs or versions descending)')
      .option('--after <cursor>', 'the page after the one that printed this cursor')
      .option('--before <cursor>', 'the page before the one that printed this cursor')
      .option('--limit <n>', 'at most this many', wholeNumber(1, 5000), '500'),
  ).action(
    action(async (command) => {
      const options = command.opts<DeviceOptions>();
      const query = deviceQuery(options);
      const list = await clientOf(command).request<DeviceListJson>('GET', `/api/v1/devices?${query}`);
      const filtered = [...query.keys()].some((k) => !['limit', 'sort', 'dir', 'after', 'before'].includes(k));
      if (wantsJson(command)) printJson(io, list.devices);
      else
        printTable(
          io,
          ['MAC', 'PLATFORM', 'VERSION', 'STATUS', 'LAST SEEN', 'LAST ANSWER', 'LABEL'],
          list.devices.map((d) => [
            d.mac,
            d.platform,
            d.version,
            d.status,
            d.lastSeenAt,
            d.lastReason ?? d.lastDecision,
            d.label,
          ]),
          'no devices match' + (filtered ? ' these filters' : ' (none has checked in yet)'),
        );
      // Paging and the count go to stderr, so that stdout stays the table (or the JSON array) alone.
      const total = `${list.count}${list.countIsLowerBound ? ' or more' : ''} matching`;
      if (list.devices.length > 0) io.err.write(`${list.devices.length} shown of ${total}\n`);
      if (list.next) io.err.write(`next page: --after ${list.next}\n`);
      if (list.previous) io.err.write(`previous page: --before ${list.previous}\n`);
    }),
  );

  withJson(
    program
      .command('events')
      .description('show the newest events; -f keeps printing new ones until Ctrl-C')
      .option('--platform <name>', 'only this platform’s events')
      .option('--mac <mac>', 'only this device’s events')
      .option('--mac-contains <part>', 'only events of devices whose MAC contains this (hex digits, any separators)')
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
