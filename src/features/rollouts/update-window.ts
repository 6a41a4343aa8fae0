import { DomainError } from '../../lib/domain-error.js';

/**
 * The hours of the day in which a platform's devices may be served an update, in a named time zone (for example
 * 02:00–05:00 Europe/Berlin, when nobody is using the boards). `from` may be later than `to`: the window then spans
 * midnight (22:00–06:00). Outside it, devices are told 304 `outside-window` and ask again at their next poll.
 */
export interface UpdateWindow {
  /** Minutes after local midnight, inclusive. */
  fromMinute: number;
  /** Minutes after local midnight, exclusive. */
  toMinute: number;
  timeZone: string;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Reads `{from: "HH:MM", to: "HH:MM", timeZone}` as people write it; a clear 400 otherwise. */
export function parseUpdateWindow(input: { from: string; to: string; timeZone: string }): UpdateWindow {
  const parse = (text: string, field: string) => {
    const match = HH_MM.exec(typeof text === 'string' ? text : '');
    if (!match) throw new DomainError('bad-request', `${field} is a time of day as HH:MM (00:00–23:59)`);
    return Number(match[1]) * 60 + Number(match[2]);
  };
  const fromMinute = parse(input.from, 'the window start');
  const toMinute = parse(input.to, 'the window end');
  if (fromMinute === toMinute) throw new DomainError('bad-request', 'the window start and end must differ');
  const timeZone = typeof input.timeZone === 'string' ? input.timeZone : '';
  try {
    formatter(timeZone);
  } catch {
    throw new DomainError('bad-request', `unknown time zone "${timeZone.slice(0, 64)}" (e.g. UTC, Europe/Berlin)`);
  }
  return { fromMinute, toMinute, timeZone };
}

export function formatUpdateWindow(window: UpdateWindow): { from: string; to: string; timeZone: string } {
  const hhmm = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return { from: hhmm(window.fromMinute), to: hhmm(window.toMinute), timeZone: window.timeZone };
}

/** Local minutes after midnight at `now` in the window's time zone. */
function localMinute(now: number, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(now)) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

/** True when `now` falls inside the window (always true without one). */
export function insideWindow(window: UpdateWindow | undefined, now: number): boolean {
  if (!window) return true;
  const minute = localMinute(now, window.timeZone);
  return window.fromMinute < window.toMinute
    ? minute >= window.fromMinute && minute < window.toMinute
    : minute >= window.fromMinute || minute < window.toMinute;
}
