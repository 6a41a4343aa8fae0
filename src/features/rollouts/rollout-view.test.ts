import { describe, expect, it } from 'vitest';
import type { RolloutRow } from '../../db/tables.js';
import { DEFAULT_ROLLOUT_POLICY } from './rollout-policy.js';
import { platformWindow, stageCount, stagePercent, toRolloutView } from './rollout-view.js';

const row = (overrides: Partial<RolloutRow> = {}): RolloutRow => ({
  id: 3,
  platform_id: 1,
  image_id: 9,
  previous_image_id: 8,
  target_version: '2.0.0',
  previous_version: '1.0.0',
  state: 'running',
  stages: '[10,50,100]',
  canary: '{"groups":[],"macs":["5ccf7f000001"]}',
  policy: '{"failureMin":7}',
  stage_index: 0,
  stage_started_at: 5,
  pause_reason: null,
  created_by: 'admin',
  created_at: 1,
  updated_at: 1,
  ended_at: null,
  key_change: null,
  ...overrides,
});

describe('reading a stored rollout', () => {
  it('counts the canary as stage 0 with no percentage, then each stage', () => {
    expect(stageCount(row())).toBe(4);
    expect([0, 1, 2, 3].map((i) => stagePercent(row(), i))).toEqual([0, 10, 50, 100]);
    const noCanary = row({ canary: '{"groups":[],"macs":[]}' });
    expect(stageCount(noCanary)).toBe(3);
    expect(stagePercent(noCanary, 0)).toBe(10);
  });

  it('degrades a damaged row to safe defaults instead of failing every check', () => {
    const damaged = row({ stages: 'nonsense', canary: '{', policy: '[]' });
    const image = { id: 9, kind: 'app', version: '2.0.0', analysis: '{"kind":"app","family":"esp32"}' };
    const view = toRolloutView(damaged, image as never);
    expect(view).toMatchObject({ percent: 100, stageCount: 1, policy: DEFAULT_ROLLOUT_POLICY });
    expect([...view!.canary]).toEqual([]);
    expect(toRolloutView(row(), undefined)).toBeUndefined();
    expect(toRolloutView(row({ state: 'completed' }), image as never)).toBeUndefined();
  });

  it('reads the update window, and none when it does not read', () => {
    expect(platformWindow({ update_window: '{"from":"22:00","to":"06:00","timeZone":"Europe/Berlin"}' })).toEqual({
      fromMinute: 1320,
      toMinute: 360,
      timeZone: 'Europe/Berlin',
    });
    for (const broken of [
      null,
      '{',
      '"x"',
      '{"from":"25:00","to":"06:00","timeZone":"UTC"}',
      '{"from":"01:00","to":"02:00","timeZone":"Mars/Base"}',
    ])
      expect(platformWindow({ update_window: broken })).toBeUndefined();
  });
});
