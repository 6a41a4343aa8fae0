import { compareVersions } from '../lib/version.js';
import type { VersionSample } from '../features/fleet/version-samples.js';

/** Versions drawn by name; the rest are summed under "other" so the chart stays readable. */
const NAMED_SERIES = 5;
const OTHER = 'other';
/** Fill colours (presentation attributes, which the page's CSP allows, unlike inline styles). */
const PALETTE = ['#2f6fdf', '#2a9d5b', '#d98a1f', '#9b59b6', '#c0392b', '#7f8c8d'];

export interface StackedSeries {
  /** The sample instants, oldest first. */
  times: number[];
  /** One series per version (newest version first, then "other"), one value per instant. */
  series: { version: string; values: number[] }[];
  /** The most devices at one instant. */
  peak: number;
}

/**
 * Devices per version at each sampled instant. The versions with the most devices at the latest instant are named
 * (newest version first, so a rollout's target is on top); the others are summed as "other".
 */
export function stackVersions(samples: readonly VersionSample[]): StackedSeries {
  const times = [...new Set(samples.map((s) => s.at))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const byVersion = new Map<string, number[]>();
  for (const s of samples) {
    let values = byVersion.get(s.version);
    if (!values) byVersion.set(s.version, (values = new Array<number>(times.length).fill(0)));
    values[index.get(s.at)!]! += s.devices;
  }
  const latestCount = (version: string) => byVersion.get(version)![times.length - 1] ?? 0;
  const ranked = [...byVersion.keys()].sort(
    (a, b) =>
      latestCount(b) - latestCount(a) ||
      byVersion.get(b)!.reduce((x, y) => x + y, 0) - byVersion.get(a)!.reduce((x, y) => x + y, 0),
  );
  const named = (ranked.length > NAMED_SERIES + 1 ? ranked.slice(0, NAMED_SERIES) : ranked).sort(
    (a, b) => compareVersions(b, a) ?? a.localeCompare(b),
  );
  const series = named.map((version) => ({ version, values: byVersion.get(version)! }));
  if (named.length < ranked.length) {
    const other = new Array<number>(times.length).fill(0);
    for (const version of ranked.slice(NAMED_SERIES)) byVersion.get(version)!.forEach((v, i) => (other[i]! += v));
    series.push({ version: OTHER, values: other });
  }
  const peak = times.reduce(
    (max, _t, i) =>
      Math.max(
        max,
        series.reduce((sum, s) => sum + s.values[i]!, 0),
      ),
    0,
  );
  return { times, series, peak };
}

const WIDTH = 640;
const HEIGHT = 180;
const LEFT = 40;
const BOTTOM = 20;

/** A stacked area chart of devices per version over time, drawn on the server as SVG (no script, no CDN). */
export function VersionsChart(props: { samples: readonly VersionSample[]; now: number }) {
  const { times, series, peak } = stackVersions(props.samples);
  if (times.length < 2 || peak === 0)
    return <p class="muted">The chart of devices per version appears once devices have been counted twice.</p>;
  const first = times[0]!;
  const span = Math.max(1, times.at(-1)! - first);
  const x = (t: number) => LEFT + ((t - first) / span) * (WIDTH - LEFT);
  const y = (devices: number) => (HEIGHT - BOTTOM) * (1 - devices / peak);
  const below = new Array<number>(times.length).fill(0);
  const areas = series.map((s) => {
    const base = [...below];
    s.values.forEach((v, i) => (below[i]! += v));
    const top = times.map((t, i) => `${x(t).toFixed(1)},${y(below[i]!).toFixed(1)}`);
    const bottom = times.map((t, i) => `${x(t).toFixed(1)},${y(base[i]!).toFixed(1)}`).reverse();
    return { version: s.version, latest: s.values.at(-1)!, points: `M${top.join('L')}L${bottom.join('L')}Z` };
  });
  const hours = Math.round(span / 3_600_000);
  return (
    <figure class="versions-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Devices per version over time">
        {areas.map((a, i) => (
          <path d={a.points} fill={PALETTE[i % PALETTE.length]} fill-opacity="0.85">
            <title>{`${a.version}: ${a.latest} now`}</title>
          </path>
        ))}
        <line x1={LEFT} y1={HEIGHT - BOTTOM} x2={WIDTH} y2={HEIGHT - BOTTOM} stroke="currentColor" />
        <text x={LEFT - 4} y={10} text-anchor="end" font-size="11" fill="currentColor">
          {String(peak)}
        </text>
        <text x={LEFT - 4} y={HEIGHT - BOTTOM} text-anchor="end" font-size="11" fill="currentColor">
          0
        </text>
        <text x={LEFT} y={HEIGHT - 4} font-size="11" fill="currentColor">
          {hours >= 48 ? `${Math.round(hours / 24)} days ago` : `${hours} h ago`}
        </text>
        <text x={WIDTH} y={HEIGHT - 4} text-anchor="end" font-size="11" fill="currentColor">
          now
        </text>
      </svg>
      <figcaption>
        {areas.map((a, i) => (
          <span class="legend">
            <svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" fill={PALETTE[i % PALETTE.length]} />
            </svg>{' '}
            {a.version} ({a.latest})
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
