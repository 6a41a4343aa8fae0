import { PlatformSelect } from '../platform-select.js';
import type { EventView } from '../../features/views.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { Ago } from '../view-helpers.js';
import { deviceStatus } from '../../features/views.js';

/** An event's outcome in the words and colours of the device badges (current, update offered, refused, idle). */
function outcomeOf(e: EventView): { label: string; tone: string } | undefined {
  if (!e.decision) return undefined;
  if (e.type === 'download') return { label: 'downloaded', tone: 'warn' };
  const status = deviceStatus({ last_decision: e.decision, last_reason: e.reason ?? '' });
  const tone = status === 'current' ? 'ok' : status === 'refused' ? 'bad' : status === 'update offered' ? 'warn' : '';
  return { label: status, tone };
}

export function EventList({ events, now }: { events: EventView[]; now: number }) {
  if (events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th>Outcome</th>
            <th>Platform</th>
            <th>Device</th>
            <th class="optional">Versions</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => {
            const outcome = outcomeOf(e);
            return (
              <tr class={outcome?.tone ? `outcome-${outcome.tone}` : undefined}>
                <td>
                  <Ago at={e.at} now={now} />
                </td>
                <td>{e.type}</td>
                <td>{outcome && <span class={`badge ${outcome.tone}`}>{outcome.label}</span>}</td>
                <td>
                  {e.platform_name ? (
                    <a href={`/platforms/${encodeURIComponent(e.platform_name)}`}>{e.platform_name}</a>
                  ) : (
                    '–'
                  )}
                </td>
                <td>{e.mac ? <a href={`/devices/${e.mac}`}>{formatMac(e.mac)}</a> : '–'}</td>
                <td class="optional">
                  {e.from_version ?? ''}
                  {e.from_version || e.to_version ? ' → ' : ''}
                  {e.to_version ?? ''}
                </td>
                <td title={e.detail ?? undefined}>{e.reason ?? (e.actor ? `by ${e.actor}` : '')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export interface EventFilter {
  platform?: string | undefined;
  /** A whole MAC or part of one, as typed. */
  mac?: string | undefined;
  decision?: string | undefined;
  type?: string | undefined;
}

/** The decisions a device check can end in, named as the device badges name them. */
const DECISIONS = [
  ['', 'all'],
  ['serve', 'update offered'],
  ['not-modified', 'current or idle (no update)'],
  ['refuse', 'refused'],
] as const;

/** The event types the server writes: device checks, then changes people make. */
export const EVENT_TYPES = [
  'first-seen',
  'check',
  'image-changed',
  'platform-changed',
  'download',
  'refused',
  'upload',
  'release',
  'image-deleted',
  'install-asset-added',
  'install-asset-removed',
  'platform-created',
  'platform-updated',
  'platform-deleted',
  'device-allowed',
  'device-disallowed',
  'device-secret-changed',
  'rollout-offered',
  'rollout-updated',
  'rollout-failed',
  'rollout-silent',
  'import',
] as const;

export interface EventPaging {
  /** Id to pass as `after` for the newer page; null when this page holds the newest. */
  newer: number | null;
  /** Id to pass as `before` for the older page; null on the last. */
  older: number | null;
}

export function EventsPage(props: {
  events: EventView[];
  filter: EventFilter;
  paging: EventPaging;
  platforms: string[];
  now: number;
  error?: string | undefined;
}) {
  const { filter, paging } = props;
  const link = (key: 'before' | 'after', id: number) =>
    `/events?${new URLSearchParams(
      Object.entries({ ...filter, [key]: String(id) }).filter(([, v]) => v) as [string, string][],
    )}`;
  const types: readonly string[] =
    filter.type && !(EVENT_TYPES as readonly string[]).includes(filter.type)
      ? [...EVENT_TYPES, filter.type]
      : EVENT_TYPES;
  return (
    <Layout title="Events" path="/events" error={props.error}>
      <form method="get" action="/events" class="row panel" role="search">
        <PlatformSelect names={props.platforms} selected={filter.platform} emptyLabel="all" />
        <label>
          Device MAC or part of it
          <input name="mac" value={filter.mac ?? ''} placeholder="5C:CF:7F or aa:bb" maxLength={32} />
        </label>
        <label>
          Event
          <select name="type">
            <option value="">all</option>
            {types.map((type) => (
              <option value={type} selected={type === filter.type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Outcome
          <select name="decision">
            {DECISIONS.map(([value, label]) => (
              <option value={value} selected={value === (filter.decision ?? '')}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <EventList events={props.events} now={props.now} />
      <nav class="row paging" aria-label="Pages">
        {paging.newer !== null && <a href={link('after', paging.newer)}>← Newer events</a>}
        {paging.older !== null && <a href={link('before', paging.older)}>Older events →</a>}
      </nav>
    </Layout>
  );
}
