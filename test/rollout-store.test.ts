import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NewRollout } from '../src/db/tables.js';
import type { Database } from '../src/db/database.js';
import { RolloutStore } from '../src/features/rollouts/rollout-store.js';
import { describeEachStore, insertTestPlatform, openTestDatabase } from './helpers/test-app.js';

describeEachStore('rollout store', (store) => {
  let db: Database;
  let close: () => Promise<void>;
  let rollouts: RolloutStore;
  let platformId: number;

  const rollout = (state: NewRollout['state'] = 'running'): NewRollout => ({
    platform_id: platformId,
    image_id: null,
    previous_image_id: null,
    target_version: '2.0.0',
    previous_version: '1.0.0',
    state,
    stages: '[10,100]',
    canary: '{"groups":[],"macs":[]}',
    policy: '{}',
    stage_index: 0,
    stage_started_at: 1,
    pause_reason: null,
    created_by: 'admin',
    created_at: 1,
    updated_at: 1,
    ended_at: null,
  });

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(store));
    rollouts = new RolloutStore(db);
    platformId = await insertTestPlatform(db, 'P');
  });
  afterAll(() => close());

  it('keeps one running or paused rollout per platform: a second is a 409, finished ones do not count', async () => {
    await rollouts.insert(rollout('completed'));
    const first = await rollouts.insert(rollout());
    await expect(rollouts.insert(rollout('paused'))).rejects.toMatchObject({ code: 'rollout-active', status: 409 });
    expect((await rollouts.active(platformId))?.id).toBe(first.id);
    const listed = await rollouts.list(platformId);
    expect(listed.map((r) => r.id)).toEqual([...listed.map((r) => r.id)].sort((a, b) => b - a));
    expect(listed).toHaveLength(2);
  });

  it('applies a transition once when two try it at the same moment', async () => {
    const current = (await rollouts.active(platformId))!;
    const from = { state: 'running' as const, stageIndex: 0 };
    const results = await Promise.all([
      rollouts.transition(current.id, from, { stage_index: 1, stage_started_at: 5, updated_at: 5 }),
      rollouts.transition(current.id, from, { state: 'paused', pause_reason: 'x', updated_at: 5 }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const after = (await rollouts.get(current.id))!;
    // Whichever came first is the whole story: advanced (stage 1, running) or paused at stage 0.
    expect([after.state, after.stage_index]).toEqual(results[0] ? ['running', 1] : ['paused', 0]);
    expect(await rollouts.transition(current.id, from, { state: 'aborted' })).toBe(false);
    expect((await rollouts.get(current.id))!.state).not.toBe('aborted');
  });
});
