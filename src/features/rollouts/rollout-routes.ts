import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RolloutRow } from '../../db/tables.js';
import { actorOf } from '../../http/auth.js';
import { RowId } from '../../http/route-schemas.js';
import { formatMac } from '../../lib/mac.js';
import type { RolloutDeviceCounts } from '../fleet/rollout-membership.js';
import type { RolloutService } from './rollout-service.js';
import { rolloutCanary, rolloutPolicy, rolloutStages, stageCount, stagePercent } from './rollout-view.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const ActionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  action: Type.Union(['pause', 'resume', 'advance', 'abort', 'rollback'].map((a) => Type.Literal(a))),
});
const Ratio = Type.Number({ minimum: 0, maximum: 1 });
const Count = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const Millis = Type.Integer({ minimum: 0, maximum: 90 * 24 * 3_600_000 });
const PolicyBody = Type.Object(
  {
    autoAdvance: Type.Optional(Type.Boolean()),
    soakMs: Type.Optional(Millis),
    successRatio: Type.Optional(Ratio),
    minDevices: Type.Optional(Count),
    failureRatio: Type.Optional(Ratio),
    failureMin: Type.Optional(Count),
    maxAttempts: Type.Optional(Count),
    failAfterChecks: Type.Optional(Count),
    failAfterMs: Type.Optional(Millis),
    silentAfterMs: Type.Optional(Millis),
  },
  { additionalProperties: false },
);
const StartBody = Type.Object(
  {
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the kept app image to roll out' })),
    imageId: Type.Optional(RowId({ description: 'or its id' })),
    confirmKeyChange: Type.Optional(
      Type.Boolean({
        description: 'the target is signed by another key than the released image, and that is intended',
      }),
    ),
    stages: Type.Optional(
      Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), {
        minItems: 1,
        maxItems: 20,
        description: 'percentages, increasing, the last 100 (default: the template, else 1, 10, 50, 100)',
      }),
    ),
    canary: Type.Optional(
      Type.Object(
        {
          macs: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10_000 })),
          groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
    policy: Type.Optional(PolicyBody),
  },
  { additionalProperties: false },
);
const ActionBody = Type.Object(
  {
    stageIndex: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: 'the stage you saw: 409 if the rollout moved on since' }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (pause only)' })),
  },
  { additionalProperties: false },
);

/** A rollout as the API shows it; `devices` only for the running or paused one. */
export function rolloutJson(r: RolloutRow, devices?: RolloutDeviceCounts) {
  const canary = rolloutCanary(r);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    state: r.state,
    targetVersion: r.target_version,
    targetImageId: r.image_id,
    previousVersion: r.previous_version,
    previousImageId: r.previous_image_id,
    stages: rolloutStages(r),
    canary: { macs: canary.macs.map(formatMac), groups: canary.groups },
    stageIndex: r.stage_index,
    stageCount: stageCount(r),
    percent: stagePercent(r, r.stage_index),
    stageStartedAt: iso(r.stage_started_at),
    pauseReason: r.pause_reason,
    policy: rolloutPolicy(r),
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    endedAt: iso(r.ended_at),
    /** Set when the target is signed by another key than the image it replaces (confirmed at start). */
    keyChange: r.key_change ? (JSON.parse(r.key_change) as { from: string[]; to: string[] }) : null,
    ...(devices ? { devices } : {}),
  };
}

/**
 * `/api/v1/platforms/{name}/rollouts`: viewers read, uploaders (who may release) start and steer. `devices` tells
 * where the active rollout's devices stand (README "Rollouts").
 */
export function registerRolloutRoutes(
  server: FastifyInstance,
  rollouts: RolloutService,
  devices: (rolloutId: number) => RolloutDeviceCounts,
): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['rollouts'];
  const shown = (r: RolloutRow) =>
    rolloutJson(r, r.state === 'running' || r.state === 'paused' ? devices(r.id) : undefined);

  app.get(
    '/api/v1/platforms/:name/rollouts',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: "The platform's rollouts, newest first", params: NameParams },
    },
    async (request) => ({ rollouts: (await rollouts.list(request.params.name)).rollouts.map(shown) }),
  );

  app.post(
    '/api/v1/platforms/:name/rollouts',
    {
      config: { access: 'uploader' },
      schema: { tags, summary: 'Start rolling out a kept app image', params: NameParams, body: StartBody },
    },
    async (request, reply) => {
      const rollout = await rollouts.start(request.params.name, request.body, actorOf(request));
      return reply.code(201).send(shown(rollout));
    },
  );

  app.post(
    '/api/v1/platforms/:name/rollouts/current/:action',
    {
      config: { access: 'uploader' },
      schema: {
        tags,
        summary: 'Pause, resume, advance, abort or roll back the current rollout',
        description: 'The body is optional: a bare POST acts on whatever stage the rollout is at.',
        params: ActionParams,
        body: ActionBody,
      },
      // A bare POST is an empty body: the schema then sees {} rather than nothing.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const { name, action } = request.params;
      const actor = actorOf(request);
      const { reason, stageIndex } = request.body;
      const seen = { stageIndex };
      const rollout =
        action === 'pause'
          ? await rollouts.pause(name, reason, actor, seen)
          : action === 'resume'
            ? await rollouts.resume(name, actor, seen)
            : action === 'advance'
              ? await rollouts.advance(name, actor, seen)
              : action === 'abort'
                ? await rollouts.abort(name, actor, seen)
                : await rollouts.rollback(name, actor, seen);
      return shown(rollout);
    },
  );
}
