import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { NewRollout, RolloutRow, RolloutState } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

/** The columns a transition may change. */
export type RolloutChanges = Partial<
  Pick<RolloutRow, 'state' | 'stage_index' | 'stage_started_at' | 'pause_reason' | 'updated_at' | 'ended_at'>
>;

const ACTIVE: RolloutState[] = ['running', 'paused'];

/**
 * SQL for rollouts. Transitions are conditional: they name the state and stage they start from, and change nothing
 * when the row has moved on meanwhile (another instance's monitor, another person), so one transition is applied
 * once however many try it at the same moment.
 */
export class RolloutStore {
  constructor(private readonly db: Database) {}

  /** A new rollout; the partial unique index refuses a second running or paused one on the platform (409). */
  insert(rollout: NewRollout): Promise<RolloutRow> {
    return refusedAs(this.db.insertInto('rollouts').values(rollout).returningAll().executeTakeFirstOrThrow(), {
      unique: () =>
        new DomainError('rollout-active', 'this platform already has a rollout running or paused: finish it first'),
    });
  }

  get(id: number): Promise<RolloutRow | undefined> {
    return this.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The platform's running or paused rollout. */
  active(platformId: number): Promise<RolloutRow | undefined> {
    return this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('state', 'in', ACTIVE)
      .executeTakeFirst();
  }

  /** Every platform's running or paused rollout (the catalogue view loads them all at once). */
  allActive(): Promise<RolloutRow[]> {
    return this.db.selectFrom('rollouts').selectAll().where('state', 'in', ACTIVE).execute();
  }

  /** The platform's rollouts, newest first. */
  list(platformId: number, limit = 100): Promise<RolloutRow[]> {
    return this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('platform_id', '=', platformId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /**
   * Applies `changes` only if the rollout is still in `from` (state and stage): true when it did. Callers that get
   * false were overtaken and must not write their event.
   */
  async transition(
    id: number,
    from: { state: RolloutState; stageIndex: number },
    changes: RolloutChanges,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('rollouts')
      .set(changes)
      .where('id', '=', id)
      .where('state', '=', from.state)
      .where('stage_index', '=', from.stageIndex)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

/** Canary groups are named by people; members are looked up when a rollout starts and when the view loads. */
export class CanaryGroups {
  constructor(private readonly db: Database) {}

  /** The group names (as stored) among `names` that exist on the platform, by lower-cased key. */
  async existing(platformId: number, names: string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('device_groups')
      .select(['name', 'name_key'])
      .where('platform_id', '=', platformId)
      .where(
        'name_key',
        'in',
        names.map((n) => n.trim().toLowerCase()),
      )
      .execute();
    return new Map(rows.map((r) => [r.name_key, r.name]));
  }

  /** MACs of the members of the platform's groups with these names. */
  async members(platformId: number, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await this.db
      .selectFrom('device_group_members')
      .innerJoin('device_groups', 'device_groups.id', 'device_group_members.group_id')
      .select('device_group_members.mac')
      .where('device_groups.platform_id', '=', platformId)
      .where(
        'device_groups.name_key',
        'in',
        names.map((n) => n.trim().toLowerCase()),
      )
      .execute();
    return rows.map((r) => r.mac);
  }
}
