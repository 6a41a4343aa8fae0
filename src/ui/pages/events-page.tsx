import { PlatformSelect } from '../platform-select.js';
import type { EventView } from '../../features/views.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { Ago } from '../view-helpers.js';

export function EventList({ events, now }: { events: EventView[]; now: number }) {
  if (events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th>Platform</th>
            <th>Device</th>
            <th class="optional">Versions</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr>
              <td>
                <Ago at={e.at} now={now} />
              </td>
              <td>{e.type}</td>
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
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface EventFilter {
  platform?: string | undefined;
  mac?: string | undefined;
  decision?: string | undefined;
}

export function EventsPage(props: {
  events: EventView[];
  filter: EventFilter;
  next: number | null;
  platforms: string[];
  now: number;
}) {
  const { filter } = props;
  const nextQuery = new URLSearchParams(
    Object.entries({ ...filter, before: String(props.next) }).filter(([, v]) => v) as [string, string][],
  );
  return (
    <Layout title="Events" path="/events">
      <form method="get" action="/events" class="row panel">
        <PlatformSelect names={props.platforms} selected={filter.platform} emptyLabel="all" />
        <label>
          Device MAC
          <input name="mac" value={filter.mac ?? ''} placeholder="5C:CF:7F:12:34:56" />
        </label>
        <label>
          Decision
          <select name="decision">
            {['', 'serve', 'not-modified', 'refuse'].map((d) => (
              <option value={d} selected={d === (filter.decision ?? '')}>
                {d || 'all'}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <EventList events={props.events} now={props.now} />
      {props.next !== null && (
        <p>
          <a href={`/events?${nextQuery}`}>Older events →</a>
        </p>
      )}
    </Layout>
  );
}
