import { describe, expect, it } from 'vitest';
import type { ImageRow } from '../../db/tables.js';
import type { SteeredMember } from '../groups/group-store.js';
import { DEFAULT_ROLLOUT_POLICY } from '../rollouts/rollout-policy.js';
import type { RolloutView } from './catalogue-snapshot.js';
import { decide } from './decide.js';
import { image, platform, request } from './decide-fixtures.js';
import { steeringByPlatform } from './steering.js';

const row = (id: number, version: string, kind: ImageRow['kind'] = 'app'): ImageRow => ({
  id,
  platform_id: 1,
  kind,
  version,
  version_key: version,
  chip: 'esp8266',
  size: 500_000,
  md5: String(id).repeat(32).slice(0, 32),
  sha256: 'bb'.repeat(32),
  appended_digest: null,
  md5_variants: null,
  analysis: JSON.stringify({ kind: 'app', family: 'esp8266', flash: { sizeBytes: 4 * 1024 * 1024 } }),
  identity_source: 'marker',
  filename: null,
  signature: null,
  uploaded_at: 0,
});
const member = (mac: string, group: number, steer: Partial<SteeredMember>): SteeredMember => ({
  platform_id: 1,
  group_id: group,
  mac,
  excluded: 0,
  pinned_image_id: null,
  own: false,
  ...steer,
});
const IMAGES = [row(1, '1.0.0'), row(2, '1.1.0'), row(3, '1.2.0'), row(4, 'fs-1', 'filesystem')];
const PINNED = '5ccf7f000001';
const EXCLUDED = '5ccf7f000002';
const BOTH = '5ccf7f000003';
const OTHER = '5ccf7f000004';

describe('steering: group and device pins and exclusions as the device check sees them', () => {
  const steering = steeringByPlatform(
    [
      member(PINNED, 10, { pinned_image_id: 1 }),
      member(BOTH, 10, { pinned_image_id: 1 }),
      member(BOTH, 11, { pinned_image_id: 2 }),
      member(EXCLUDED, 12, { excluded: 1 }),
      // The device's own pin comes from a newer group yet wins over its groups'.
      member(OTHER, 11, { pinned_image_id: 2 }),
      member(OTHER, 13, { pinned_image_id: 3, own: true }),
      // A pin to a filesystem image (never made by the service) is ignored rather than served as an app.
      member('5ccf7f000005', 14, { pinned_image_id: 4 }),
    ],
    IMAGES,
  ).get(1)!;

  it('takes the oldest group pin, except that a device pin wins', () => {
    expect(steering.pins.get(PINNED)?.version).toBe('1.0.0');
    expect(steering.pins.get(BOTH)?.version).toBe('1.0.0');
    expect(steering.pins.get(OTHER)?.version).toBe('1.2.0');
    expect(steering.pins.has('5ccf7f000005')).toBe(false);
    expect([...steering.excluded]).toEqual([EXCLUDED]);
  });

  const v2 = image({ id: 20, version: '2.0.0', md5: 'ee'.repeat(16), runningDigests: new Set(['ee'.repeat(16)]) });
  const rollout: RolloutView = {
    id: 7,
    state: 'running',
    target: v2,
    percent: 100,
    stageIndex: 1,
    stageCount: 2,
    stageStartedAt: 0,
    canary: new Set([EXCLUDED, PINNED]),
    policy: DEFAULT_ROLLOUT_POLICY,
  };
  const view = platform({ accessMode: 'open', rollout, ...steering });

  it('serves a pinned device its pin even with a newer release and a rollout at 100 % naming it a canary', () => {
    const decision = decide(request({ mac: PINNED, version: '1.2.0' }), view);
    expect(decision).toMatchObject({ action: 'serve', reason: 'pinned' });
    expect(decision.action === 'serve' && decision.image.version).toBe('1.0.0');
  });

  it('serves an excluded device the release, not the rollout, even when it is a canary', () => {
    const decision = decide(request({ mac: EXCLUDED, version: '1.1.0' }), view);
    expect(decision.action === 'serve' && decision.image.version).toBe('1.2.0');
    expect(decide(request({ mac: EXCLUDED, version: '1.2.0' }), view)).toMatchObject({
      action: 'not-modified',
      reason: 'current',
    });
  });

  it('moves a device neither pinned nor excluded with the rollout', () => {
    const decision = decide(request({ mac: '5ccf7f0000ff', version: '1.2.0' }), view);
    expect(decision.action === 'serve' && decision.image.version).toBe('2.0.0');
  });
});
