import type { DeviceListSort } from '../../features/devices/device-pages.js';
import { DEVICE_STATUSES, type DeviceStatus } from '../../features/fleet/device-status.js';
import type { DeviceView, EventView } from '../../features/views.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { Ago, StatusBadge, formatSize } from '../view-helpers.js';
import { EventList } from './events-page.js';
import { DeviceSteering, type DeviceSteeringProps } from './group-parts.js';

/** The devices list's filters (all optional); see routes/device-list.ts. */
export interface DeviceListFilter {
  /** The stored status: against what the device's platform moves it to. */
  status?: DeviceStatus | undefined;
  platform?: string | undefined;
  chip?: string | undefined;
  /** Only devices running an older version than their platform moves them to. */
  outdated?: boolean | undefined;
}

export interface DevicesPageProps {
  devices: DeviceView[];
  labels: Map<string, string>;
  /** Devices matching the filters in all (at least this many with `countIsLowerBound`). */
  count: number;
  countIsLowerBound?: boolean | undefined;
  /** Page cursors: the page after this one and the page before it (null: none). */
  next?: string | null | undefined;
  previous?: string | null | undefined;
  q: string;
  sort: DeviceListSort;
  descending: boolean;
  now: number;
  filter?: DeviceListFilter | undefined;
  /** Platform names for the filter, and each one's released version (undefined: none released). */
  platforms?: { name: string; released: string | undefined }[] | undefined;
  /** Device chip families seen, for the filter. */
  chips?: string[] | undefined;
}

export function DevicesPage(props: DevicesPageProps) {
  const { q, sort, descending, now } = props;
  const filter = props.filter ?? {};
  const released = new Map((props.platforms ?? []).map((p) => [p.name, p.released]));
  const filterParams = Object.entries({
    q,
    status: filter.status,
    platform: filter.platform,
    chip: filter.chip,
    outdated: filter.outdated ? '1' : undefined,
  }).filter(([, v]) => v) as [string, string][];
  const pageLink = (key: 'after' | 'before', cursor: string) =>
    `/devices?${new URLSearchParams([...filterParams, ['sort', sort], ['dir', descending ? 'desc' : 'asc'], [key, cursor]])}`;
  const newestFirst = sort === 'seen' && descending;
  const header = (column: DeviceListSort, label: string, optional = false) => {
    const nextDescending = column === sort ? !descending : column === 'seen';
    const query = new URLSearchParams([...filterParams, ['sort', column], ['dir', nextDescending ? 'desc' : 'asc']]);
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
  const filtered = filterParams.length > 0;
  return (
    <Layout title="Devices" path="/devices">
      <form method="get" action="/devices" class="row panel" role="search">
        <label>
          Search
          <input name="q" value={q} placeholder="MAC, label, platform, version, IP" />
        </label>
        {props.filter && (
          <>
            <label>
              Status
              <select name="status">
                <option value="">all</option>
                {DEVICE_STATUSES.map((s) => (
                  <option value={s} selected={s === filter.status}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Platform
              <select name="platform">
                <option value="">all</option>
                {(props.platforms ?? []).map((p) => (
                  <option value={p.name} selected={p.name === filter.platform}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Chip
              <select name="chip">
                <option value="">all</option>
                {(props.chips ?? []).map((c) => (
                  <option value={c} selected={c === filter.chip}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
            <label class="check">
              <input type="checkbox" name="outdated" value="1" checked={filter.outdated} /> outdated only
            </label>
          </>
        )}
        <input type="hidden" name="sort" value={sort} />
        <input type="hidden" name="dir" value={descending ? 'desc' : 'asc'} />
        <button type="submit">{props.filter ? 'Filter' : 'Search'}</button>
      </form>
      <p class="count" role="status">
        {props.countIsLowerBound
          ? `${props.count.toLocaleString('en')}+ devices`
          : props.count === 1
            ? '1 device'
            : `${props.count.toLocaleString('en')} devices`}
        {filtered && props.count > 0 ? ' match' : ''}
      </p>
      {props.devices.length === 0 ? (
        <p class="muted">No devices{filtered ? ' match' : ' have checked in yet'}.</p>
      ) : (
        <div class="table-wrap cards-on-phone">
          <table class="device-list">
            <thead>
              <tr>
                {header('mac', 'MAC')}
                <th>Platform</th>
                {header('version', 'Version')}
                {props.platforms && <th>Released</th>}
                {header('seen', 'Last seen')}
                <th class="optional">IP</th>
                <th class="optional">Free space</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {props.devices.map((d) => {
                const release = released.get(d.platform_name);
                return (
                  <tr>
                    <td data-label="MAC">
                      <a href={`/devices/${d.mac}`}>{formatMac(d.mac)}</a>
                      {props.labels.get(d.mac) && <div class="muted">{props.labels.get(d.mac)}</div>}
                    </td>
                    <td data-label="Platform">{d.platform_name}</td>
                    <td data-label="Version">{d.reported_version ?? '–'}</td>
                    {props.platforms && (
                      <td
                        data-label="Released"
                        class={release && release !== d.reported_version ? 'behind' : undefined}
                      >
                        {release ?? 'none'}
                      </td>
                    )}
                    <td data-label="Last seen">
                      <Ago at={d.last_seen_at} now={now} />
                    </td>
                    <td data-label="IP" class="optional">
                      {d.ip ?? '–'}
                    </td>
                    <td data-label="Free space" class="optional">
                      {formatSize(d.free_space)}
                    </td>
                    <td data-label="Status">
                      <StatusBadge device={d} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {(props.previous || props.next) && (
        <nav class="row paging" aria-label="Pages">
          {props.previous && <a href={pageLink('before', props.previous)}>{newestFirst ? '← Newer' : '← Previous'}</a>}
          {props.next && <a href={pageLink('after', props.next)}>{newestFirst ? 'Older →' : 'Next →'}</a>}
        </nav>
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
