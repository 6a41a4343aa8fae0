import { describe, expect, it } from 'vitest';
import { render } from './render.js';
import { VersionsChart, stackVersions } from './versions-chart.js';

const HOUR = 3_600_000;
const sample = (at: number, version: string, devices: number) => ({ at: at * HOUR, version, devices });

describe('devices per version chart', () => {
  it('stacks versions by instant, newest version on top, filling instants a version was absent with 0', () => {
    const stacked = stackVersions([
      sample(1, '1.0.0', 10),
      sample(2, '1.0.0', 7),
      sample(2, '1.1.0', 3),
      sample(3, '1.1.0', 10),
    ]);
    expect(stacked.times).toEqual([1 * HOUR, 2 * HOUR, 3 * HOUR]);
    expect(stacked.series).toEqual([
      { version: '1.1.0', values: [0, 3, 10] },
      { version: '1.0.0', values: [10, 7, 0] },
    ]);
    expect(stacked.peak).toBe(10);
  });

  it('names the five versions most devices run now and sums the rest as other', () => {
    const samples = ['1', '2', '3', '4', '5', '6', '7'].flatMap((v, i) => [
      sample(1, `${v}.0.0`, 1),
      sample(2, `${v}.0.0`, i + 1),
    ]);
    const { series, peak } = stackVersions(samples);
    expect(series.map((s) => s.version)).toEqual(['7.0.0', '6.0.0', '5.0.0', '4.0.0', '3.0.0', 'other']);
    expect(series.at(-1)!.values).toEqual([2, 1 + 2]);
    expect(peak).toBe(28);
  });

  it('draws one area per series with its version in the legend, and escapes version text', () => {
    const html = render(
      <VersionsChart samples={[sample(1, '1.0.0', 4), sample(2, '<b>2</b>', 4), sample(2, '1.0.0', 1)]} now={0} />,
    );
    expect(html.match(/<path /g)).toHaveLength(2);
    expect(html).toContain('&lt;b>2&lt;/b> (4)');
    expect(html).not.toContain('<b>2</b>');
    expect(html).not.toMatch(/<script|style=/);
  });

  it('says when there is not enough to draw', () => {
    expect(render(<VersionsChart samples={[sample(1, '1.0.0', 4)]} now={0} />)).toContain('appears once');
  });
});
