import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../db/tables.js';
import { recordAttempt, type RolloutTracking } from '../rollouts/device-outcome.js';
import { DEFAULT_ROLLOUT_POLICY } from '../rollouts/rollout-policy.js';
import type { PlatformView, RolloutView } from '../update-check/catalogue-snapshot.js';
import { image, platform } from '../update-check/decide-fixtures.js';
import type { ActivityWriter } from './activity-writer.js';
import { DeviceActivity } from './device-activity.js';
import { DeviceEntry } from './device-entry.js';
import { DeviceRegistry } from './device-registry.js';
import { REPORT_EVENTS_PER_INTERVAL, type DeviceReport } from './report-activity.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MAC = '5ccf7f123456';
const INTERVAL = 60_000;
const v2 = image({ id: 2, version: '2.0.0', md5: 'ee'.repeat(16), runningDigests: new Set(['ee'.repeat(16)]) });
const rollout = (overrides: Partial<RolloutView> = {}): RolloutView => ({
  id: 7,
  state: 'running',
  target: v2,
  percent: 100,
  stageIndex: 1,
  stageCount: 4,
  stageStartedAt: T0,
  canary: new Set(),
  policy: DEFAULT_ROLLOUT_POLICY,
  ...overrides,
});
const withRollout = (overrides: Partial<PlatformView> = {}) =>
  platform({ accessMode: 'open', rollout: rollout(), ...overrides });

function setup(tracking: RolloutTracking | null = null, known = true) {
  const registry = new DeviceRegistry();
  const events: NewEvent[] = [];
  const changed: string[] = [];
  const writer = {
    changed: (entry: DeviceEntry) => changed.push(entry.mac),
    event: (event: NewEvent) => events.push(event),
    sighted: () => undefined,
  } as unknown as ActivityWriter;
  const log = { info: () => undefined, debug: () => undefined };
  const activity = new DeviceActivity(registry, writer, log, { refusalEventIntervalMs: INTERVAL });
  if (known) {
    registry.insert(
      new DeviceEntry(MAC, 1, 'AirPatrol', '1.2.0', 1, 'serve', 'newer-version', 'outdated', 0, T0, T0, 2, 1, tracking),
    );
  }
  return { registry, events, changed, activity };
}

const report = (overrides: Partial<DeviceReport> = {}): DeviceReport => ({
  at: T0 + 1_000,
  platform: withRollout(),
  mac: MAC,
  ip: '192.0.2.7',
  family: 'esp8266',
  outcome: 'failure',
  version: '2.0.0',
  reason: 'image did not boot',
  ...overrides,
});

const served = recordAttempt(undefined, 7, T0).tracking!;

describe('outcome reports in the fleet', () => {
  it('a failure report marks a device the rollout served failed, with the reported reason', () => {
    const { registry, events, activity } = setup(served);
    expect(activity.report(report())).toBe('counted');
    const tracking = registry.get(MAC)!.rollout!;
    expect(tracking).toMatchObject({ rolloutId: 7, state: 'failed', outcomeAt: T0 + 1_000 });
    expect(tracking.failure).toBe('reported: image did not boot');
    expect(registry.summary.rollout(7)).toMatchObject({ failed: 1 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'reported',
      mac: MAC,
      platform_name: 'AirPatrol',
      decision: 'failure',
      reason: 'image did not boot',
      from_version: '1.2.0',
      to_version: '2.0.0',
      status: 204,
      occurrences: 1,
    });
    expect(events[0]!.actor ?? null).toBeNull();
    expect(events[0]!.detail).toContain('the rollout of 2.0.0 counts it failed');
  });

  it('an explicit success outranks an inferred failure', () => {
    const inferred: RolloutTracking = { ...served, state: 'failed', failure: 'checks', outcomeAt: T0 };
    const { registry, activity } = setup(inferred);
    expect(activity.report(report({ outcome: 'success', reason: undefined }))).toBe('counted');
    expect(registry.get(MAC)!.rollout).toMatchObject({ state: 'updated', failure: null });
  });

  it('counts a report without a version against the device’s last download of the rollout', () => {
    const { registry, activity } = setup(served);
    expect(activity.report(report({ version: undefined }))).toBe('counted');
    expect(registry.get(MAC)!.rollout!.state).toBe('failed');
  });

  it('records but does not count a report of another version, or with no rollout, or from a pinned device', () => {
    for (const [name, r, effect] of [
      ['other version', report({ version: '1.9.0' }), 'other-version'],
      ['no rollout', report({ platform: platform({ accessMode: 'open' }) }), 'no-rollout'],
      ['pinned', report({ platform: withRollout({ pins: new Map([[MAC, image()]]) }) }), 'not-in-rollout'],
      ['excluded', report({ platform: withRollout({ excluded: new Set([MAC]) }) }), 'not-in-rollout'],
      [
        'not admitted, never served',
        report({ platform: withRollout({ rollout: rollout({ percent: 0 }) }) }),
        'not-in-rollout',
      ],
    ] as const) {
      const { registry, events, activity } = setup(name === 'not admitted, never served' ? null : served);
      const before = registry.get(MAC)!.rollout;
      expect(activity.report(r), name).toBe(effect);
      expect(registry.get(MAC)!.rollout, name).toBe(before);
      expect(
        events.map((e) => e.type),
        name,
      ).toEqual(['reported']);
    }
  });

  it('counts an admitted device that reports the rollout’s version, even if another route served it', () => {
    const { registry, activity } = setup(null);
    expect(activity.report(report({ outcome: 'success' }))).toBe('counted');
    expect(registry.get(MAC)!.rollout).toMatchObject({ rolloutId: 7, state: 'updated' });
  });

  it('folds a device’s repeated report within the interval into the next event', () => {
    const { events, activity } = setup(served);
    for (let i = 0; i < 50; i++) activity.report(report({ at: T0 + 1_000 + i }));
    expect(events).toHaveLength(1);
    activity.report(report({ at: T0 + 1_000 + INTERVAL }));
    expect(events).toHaveLength(2);
    expect(events[1]!.occurrences).toBe(50);
  });

  it('writes a different report at once (a failure, then the retry’s success), but bounds a loop of them', () => {
    const { registry, events, activity } = setup(served);
    activity.report(report({ at: T0 + 1_000 }));
    activity.report(report({ at: T0 + 2_000, outcome: 'success', reason: undefined }));
    expect(events.map((e) => e.decision)).toEqual(['failure', 'success']);
    for (let i = 0; i < 50; i++) {
      activity.report(report({ at: T0 + 3_000 + i, outcome: i % 2 === 0 ? 'failure' : 'success' }));
    }
    expect(events).toHaveLength(REPORT_EVENTS_PER_INTERVAL);
    // Folded or not, the last report (i = 49, success) is what the rollout counts, and the device was heard.
    expect(registry.get(MAC)!.rollout!.state).toBe('updated');
    expect(registry.get(MAC)!.lastSeenAt).toBe(T0 + 3_049);
    activity.report(report({ at: T0 + 1_000 + INTERVAL }));
    expect(events).toHaveLength(REPORT_EVENTS_PER_INTERVAL + 1);
    expect(events.at(-1)!.occurrences).toBe(1 + 52 - REPORT_EVENTS_PER_INTERVAL);
  });

  it('creates a device that reports before it ever checked in (first boot after a cable flash or a plain download)', () => {
    const { registry, events, changed, activity } = setup(null, false);
    const p = withRollout({ rollout: undefined, imageByVersion: new Map([['2.0.0~0', { id: 2, version: '2.0.0' }]]) });
    expect(activity.report(report({ platform: p, outcome: 'success', reason: undefined }))).toBe('no-rollout');
    const entry = registry.get(MAC)!;
    expect(entry).toMatchObject({ platformId: 1, runningVersion: '2.0.0', runningImageId: 2, lastSeenAt: T0 + 1_000 });
    expect(events.map((e) => e.type)).toEqual(['first-seen', 'reported']);
    expect(changed).toContain(MAC);
  });

  it('a new device that reports a failure runs nothing known yet', () => {
    const { registry, activity } = setup(null, false);
    activity.report(report({ platform: platform({ accessMode: 'open' }) }));
    expect(registry.get(MAC)).toMatchObject({ runningVersion: null, runningImageId: null, status: 'unknown' });
  });

  it('updates a known device’s last seen on every report and writes its row', () => {
    const { registry, changed, activity } = setup(served);
    activity.report(report({ at: T0 + 5_000, platform: platform({ accessMode: 'open' }) }));
    expect(registry.get(MAC)!.lastSeenAt).toBe(T0 + 5_000);
    expect(changed).toEqual([MAC]);
  });
});
