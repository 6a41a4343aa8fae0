import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordAttempt, type RolloutTracking } from '../rollouts/device-outcome.js';
import { DEFAULT_ROLLOUT_POLICY } from '../rollouts/rollout-policy.js';
import { parseUpdateWindow } from '../rollouts/update-window.js';
import type { PlatformView, RolloutView } from './catalogue-snapshot.js';
import { decide } from './decide.js';
import { image, platform, request } from './decide-fixtures.js';

const MAC = '5ccf7f123456';
const v2 = image({ id: 2, version: '2.0.0', md5: 'ee'.repeat(16), runningDigests: new Set(['ee'.repeat(16)]) });
const rollout = (overrides: Partial<RolloutView> = {}): RolloutView => ({
  id: 7,
  state: 'running',
  target: v2,
  percent: 0,
  stageIndex: 0,
  stageCount: 4,
  stageStartedAt: 0,
  canary: new Set(),
  policy: DEFAULT_ROLLOUT_POLICY,
  ...overrides,
});
const open = (overrides: Partial<PlatformView> = {}) => platform({ accessMode: 'open', ...overrides });
const failed: RolloutTracking = { ...recordAttempt(undefined, 7, 0).tracking!, state: 'failed', failure: 'attempts' };

describe('decide, with a rollout, pins and a window', () => {
  it.each([
    [
      'canary device on the release → the rollout image',
      request({ version: '1.2.0' }),
      open({ rollout: rollout({ canary: new Set([MAC]) }) }),
      'serve',
      'newer-version',
      '2.0.0',
    ],
    [
      'admitted by its bucket at 100 % → the rollout image',
      request({ version: '1.2.0' }),
      open({ rollout: rollout({ percent: 100 }) }),
      'serve',
      'newer-version',
      '2.0.0',
    ],
    [
      'not admitted, on the release → 304 rollout-pending',
      request({ version: '1.2.0' }),
      open({ rollout: rollout() }),
      'not-modified',
      'rollout-pending',
      '1.2.0',
    ],
    [
      'not admitted, behind the release → the release',
      request({ version: '1.0.0' }),
      open({ rollout: rollout() }),
      'serve',
      'newer-version',
      '1.2.0',
    ],
    [
      'not admitted, nothing released → 304 rollout-pending',
      request(),
      open({ app: undefined, rollout: rollout() }),
      'not-modified',
      'rollout-pending',
      undefined,
    ],
    [
      'not admitted, already on the rollout image → current (what its status says too)',
      request({ version: '2.0.0' }),
      open({ rollout: rollout() }),
      'not-modified',
      'current',
      '2.0.0',
    ],
    [
      'admitted, rollout paused → 304 rollout-paused',
      request({ version: '1.2.0' }),
      open({ rollout: rollout({ percent: 100, state: 'paused' }) }),
      'not-modified',
      'rollout-paused',
      '1.2.0',
    ],
    [
      'admitted and on the rollout image → current',
      request({ version: '2.0.0' }),
      open({ rollout: rollout({ percent: 100 }) }),
      'not-modified',
      'current',
      '2.0.0',
    ],
    [
      'excluded device → the release, without a rollout reason',
      request({ version: '1.2.0' }),
      open({ rollout: rollout({ percent: 100 }), excluded: new Set([MAC]) }),
      'not-modified',
      'current',
      '1.2.0',
    ],
    [
      'pinned to an older image → that image',
      request({ version: '1.2.0' }),
      open({ pins: new Map([[MAC, image({ id: 3, version: '1.0.0' })]]), rollout: rollout({ percent: 100 }) }),
      'serve',
      'pinned',
      '1.0.0',
    ],
    [
      'pinned and running it → 304 current',
      request({ version: '1.0.0' }),
      open({ pins: new Map([[MAC, image({ id: 3, version: '1.0.0' })]]) }),
      'not-modified',
      'current',
      '1.0.0',
    ],
    [
      "version query announces the device's target",
      request({ mode: 'version' }),
      open({ rollout: rollout({ percent: 100 }) }),
      'announce-version',
      'version-query',
      '2.0.0',
    ],
    [
      'filesystem mode is not rolled out',
      request({ mode: 'littlefs', version: 'fs-1' }),
      open({
        rollout: rollout({ percent: 100 }),
        filesystem: image({ kind: 'filesystem', version: 'fs-2', family: undefined }),
      }),
      'serve',
      'different-version',
      'fs-2',
    ],
    [
      'direct client with its MAC, admitted → the rollout image',
      request({ client: 'direct', version: undefined, family: undefined }),
      open({ rollout: rollout({ percent: 100 }) }),
      'serve',
      'direct-download',
      '2.0.0',
    ],
    [
      'direct client without a MAC → the release',
      request({ client: 'direct', mac: undefined, version: undefined, family: undefined }),
      open({ rollout: rollout({ percent: 100 }) }),
      'serve',
      'direct-download',
      '1.2.0',
    ],
  ] as const)('%s', (_name, req, view, action, reason, version) => {
    const decision = decide(req, view);
    expect([decision.action, decision.reason, decision.image?.version]).toEqual([action, reason, version]);
  });

  it('a device on the rollout image keeps it while the rollout is paused or pending, even over a pinned release', () => {
    // The release a person chose (pinned) offers older images as a rollback; a rollout's own devices must not get it
    // while the rollout merely waits: only the rollout's "roll back" moves them back.
    const onTarget = request({ version: '2.0.0', sketchMd5: 'ee'.repeat(16) });
    for (const view of [rollout({ state: 'paused', percent: 100 }), rollout({ percent: 0 })]) {
      const decision = decide(onTarget, open({ appPinned: true, rollout: view }));
      expect([decision.action, decision.reason]).toEqual(['not-modified', 'current']);
    }
  });

  it('a device that failed in this rollout is not served again (304 rollout-failed); another rollout starts over', () => {
    const view = open({ rollout: rollout({ percent: 100 }) });
    expect(decide(request({ version: '1.2.0' }), view, failed)).toMatchObject({
      action: 'not-modified',
      reason: 'rollout-failed',
    });
    expect(decide(request({ version: '1.2.0' }), view, { ...failed, rolloutId: 6 })).toMatchObject({
      action: 'serve',
    });
  });

  it('outside the update window a device is told 304 outside-window; refusals still say why', () => {
    const window = parseUpdateWindow({ from: '02:00', to: '05:00', timeZone: 'UTC' });
    const view = open({ window });
    const night = Date.parse('2026-12-02T03:00:00Z');
    const day = Date.parse('2026-12-02T12:00:00Z');
    expect(decide(request(), view, undefined, night)).toMatchObject({ action: 'serve' });
    expect(decide(request(), view, undefined, day)).toMatchObject({ action: 'not-modified', reason: 'outside-window' });
    expect(decide(request({ freeSpace: 10 }), view, undefined, day)).toMatchObject({ reason: 'too-large' });
    expect(decide(request({ version: '1.2.0' }), view, undefined, day)).toMatchObject({ reason: 'current' });
  });

  it('the same device always gets the same answer, and raising the percentage never takes the image away', () => {
    const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b).toString('hex'));
    fc.assert(
      fc.property(
        macArb,
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (mac, id, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const req = request({ mac, version: '1.2.0' });
          const at = (percent: number) => decide(req, open({ rollout: rollout({ id, percent }) }));
          expect(at(low)).toEqual(at(low));
          if (at(low).action === 'serve') expect(at(high).action).toBe('serve');
        },
      ),
    );
  });
});
