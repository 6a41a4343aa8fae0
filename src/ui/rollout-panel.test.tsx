import { describe, expect, it } from 'vitest';
import { noRolloutDevices } from '../features/fleet/rollout-membership.js';
import { render } from './render.js';
import type { RolloutSummary } from '../features/rollouts/rollout-overview.js';
import { RolloutPanel, stageText } from './rollout-panel.js';

const running: RolloutSummary = {
  state: 'running',
  targetVersion: '2.0.0',
  previousVersion: '1.0.0',
  stageIndex: 1,
  stages: [10, 50, 100],
  hasCanary: true,
  stageStartedAt: 0,
  pauseReason: null,
  createdBy: 'alice',
};
const devices = { ...noRolloutDevices(), updated: 15, offered: 3, failed: 2, pending: 180 };
const panel = (props: Partial<Parameters<typeof RolloutPanel>[0]>) =>
  render(
    <RolloutPanel
      base="/platforms/P"
      rollout={running}
      devices={devices}
      failing={[]}
      candidates={['3.0.0']}
      canSteer
      now={60_000}
      {...props}
    />,
  );

describe('the rollout panel', () => {
  it('names the stage in words, the canary counting as the first', () => {
    expect(stageText({ ...running, stageIndex: 0 })).toBe('stage 1 of 4 (the canary)');
    expect(stageText(running)).toBe('stage 2 of 4 (10 %)');
    expect(stageText({ ...running, hasCanary: false, stageIndex: 2 })).toBe('stage 3 of 3 (100 %)');
  });

  it('shows what moves, the counts by state and a bar whose widths add up to the whole', () => {
    const html = panel({});
    expect(html).toContain('1.0.0 → 2.0.0');
    expect(html).toMatch(/updated <strong>15<\/strong>/);
    expect(html).toMatch(/later stage <strong>180<\/strong>/);
    const widths = [...html.matchAll(/<rect x="[\d.]+" y="0" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(4);
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 1);
    expect(html).not.toMatch(/style=/);
  });

  it('offers pause while running and resume while paused, with the reason it paused', () => {
    expect(panel({})).toContain('/platforms/P/rollout/pause');
    const paused = panel({ rollout: { ...running, state: 'paused', pauseReason: '3 of 20 devices failed' } });
    expect(paused).toContain('/platforms/P/rollout/resume');
    expect(paused).not.toContain('/rollout/pause"');
    expect(paused).not.toContain('/rollout/advance"');
    expect(paused).toContain('Paused: 3 of 20 devices failed');
  });

  it('lists failing devices with their reason, and shows no button to a viewer who may not steer', () => {
    const html = panel({
      canSteer: false,
      failing: [{ mac: '5ccf7f0000aa', state: 'failed', reason: 'still runs 1.0.0' }],
    });
    expect(html).toContain('5C:CF:7F:00:00:AA');
    expect(html).toContain('still runs 1.0.0');
    expect(html).not.toContain('<form');
  });

  it('offers to start one when none is running, with the kept versions to choose from', () => {
    const none = panel({ rollout: undefined });
    expect(none).toContain('No rollout yet');
    expect(none).toContain('action="/platforms/P/rollout/start"');
    expect(none).toContain('<option value="3.0.0">');
    expect(panel({})).not.toContain('/rollout/start');
    expect(panel({ rollout: { ...running, state: 'completed' } })).toContain('/rollout/start');
    expect(panel({ rollout: undefined, canSteer: false })).not.toContain('<form');
  });
});
