import type { DeviceSort } from '../../features/fleet/device-search.js';
import type { DeviceView, EventView } from '../../features/views.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { Ago, StatusBadge, formatSize } from '../view-helpers.js';
import { EventList } from './events-page.js';
import { DeviceSteering, type DeviceSteeringProps } from './group-parts.js';

export function DevicesPage(props: {
  devices: DeviceView[];
  labels: Map<string, string>;
  q: string;
  sort: DeviceSort;
  descending: boolean;
  now: number;
}) {
  const { q, sort, descending, now } = props;
  const header = (column: DeviceSort, label: string, optional = false) => {
    const nextDescending = column === sort ? !descending : column === 'seen';
    const query = new URLSearchParams({ ...(q ? { q } : {}), sort: column, dir: nextDescending ? 'desc' : 'asc' });
    return (
      <th
        class={optional ? 'optional' : undefined}
        aria-sort={column === sort ? (descending ? 'descending' : 'ascending') : undefined}
      >
        <a href={`/devices?${query}`}>
          {label}
          {column === sort ? (descending ? ' ↓' : ' ↑') : ''}
        </a>
      </th>
    );
  };
  return (
    <Layout title="Devices" path="/devices">
      <form method="get" action="/devices" class="row panel" role="search">
        <label>
          Search
          <input name="q" value={q} placeholder="MAC, label, platform, version, IP" />
        </label>
        <input type="hidden" name="sort" value={sort} />
        <input type="hidden" name="dir" value={descending ? 'desc' : 'asc'} />
        <button type="submit">Search</button>
      </form>
      {props.devices.length === 0 ? (
        <p class="muted">No devices{q ? ' match' : ' have checked in yet'}.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                {header('mac', 'MAC')}
                {header('platform', 'Platform')}
                {header('version', 'Version')}
                {header('seen', 'Last seen')}
                <th class="optional">IP</th>
                <th class="optional">Free space</th>
                {header('status', 'Status')}
              </tr>
            </thead>
            <tbody>
              {props.devices.map((d) => (
                <tr>
                  <td>
                    <a href={`/devices/${d.mac}`}>{formatMac(d.mac)}</a>
                    {props.labels.get(d.mac) && <div class="muted">{props.labels.get(d.mac)}</div>}
                  </td>
                  <td>{d.platform_name}</td>
                  <td>{d.reported_version ?? '–'}</td>
                  <td>
                    <Ago at={d.last_seen_at} now={now} />
                  </td>
                  <td class="optional">{d.ip ?? '–'}</td>
                  <td class="optional">{formatSize(d.free_space)}</td>
                  <td>
                    <StatusBadge device={d} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

export function DevicePage(props: {
  device: DeviceView;
  label: string | undefined;
  events: EventView[];
  now: number;
  steering?: DeviceSteeringProps | undefined;
  error?: string | undefined;
  notice?: string | undefined;
}) {
  const { device: d, now } = props;
  const facts: [string, string][] = [
    ['Platform', d.platform_name],
    ['Running version', d.reported_version ?? 'not reported'],
    ['Family', d.family ?? 'unknown'],
    ['IP address', d.ip ?? '–'],
    ['SDK', d.sdk_version ?? '–'],
    ['Free space', formatSize(d.free_space)],
    ['Flash size', formatSize(d.chip_size)],
    ['Sketch MD5', d.sketch_md5 ?? '–'],
    ['Checks / downloads', `${d.check_count} / ${d.download_count}`],
  ];
  return (
    <Layout title={`Device ${formatMac(d.mac)}`} path="/devices" error={props.error} notice={props.notice}>
      <div class="panel">
        {props.label && <p>{props.label}</p>}
        <p>
          <StatusBadge device={d} /> last seen <Ago at={d.last_seen_at} now={now} />, first seen{' '}
          <Ago at={d.first_seen_at} now={now} />
        </p>
        <table>
          <tbody>
            {facts.map(([k, v]) => (
              <tr>
                <th scope="row">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.steering && <DeviceSteering {...props.steering} />}
      <h2>History</h2>
      <EventList events={props.events} now={now} />
    </Layout>
  );
}
