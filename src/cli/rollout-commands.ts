import type { Command } from 'commander';
import { normalizeMac } from '../lib/mac.js';
import { ApiClient } from './api-client.js';
import type { CliIo, CliState } from './program.js';

/** A rollout as `GET /api/v1/platforms/{name}/rollouts` shows it (rollout-routes.ts). */
interface RolloutJson {
  id: number;
  state: 'running' | 'paused' | 'completed' | 'aborted';
  targetVersion: string;
  previousVersion: string | null;
  stages: number[];
  stageIndex: number;
  stageCount: number;
  percent: number;
  pauseReason: string | null;
  /** Servers before issue 17 do not send it. */
  keyChange?: { from: string[]; to: string[] } | null;
  createdBy: string;
  devices?: Record<string, number>;
}

const ACTIONS = ['pause', 'resume', 'advance', 'abort', 'rollback'] as const;

/** Percentages as people type them: `1,10,50,100`. */
function parseStages(text: string): number[] {
  const stages = text.split(',').map((part) => Number(part.trim().replace(/%$/, '')));
  if (stages.some((s) => !Number.isFinite(s))) throw new Error(`--stages is a list of percentages, e.g. 1,10,50,100`);
  return stages;
}

/** MACs go to the canary's devices; anything else names a device group. */
function parseCanary(text: string): { macs: string[]; groups: string[] } {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    macs: items.filter((item) => normalizeMac(item) !== undefined),
    groups: items.filter((item) => normalizeMac(item) === undefined),
  };
}

function describe(platform: string, r: RolloutJson): string {
  const stage = r.percent === 0 ? 'the canary' : `${r.percent} %`;
  const lines = [
    `${platform}: ${r.previousVersion ?? 'nothing'} → ${r.targetVersion}, ${r.state}, stage ${r.stageIndex + 1} of ${r.stageCount} (${stage}), started by ${r.createdBy}`,
  ];
  if (r.pauseReason) lines.push(`paused: ${r.pauseReason}`);
  if (r.keyChange) {
    const keys = (d: string[]) => (d.length ? d.map((x) => x.slice(0, 12)).join(', ') : 'unsigned');
    lines.push(`signing key changes: ${keys(r.keyChange.from)} → ${keys(r.keyChange.to)} (confirmed)`);
  }
  if (r.devices)
    lines.push(
      `devices: ${Object.entries(r.devices)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ')}`,
    );
  return lines.join('\n') + '\n';
}

/**
 * `esp-ota release PLATFORM VERSION` starts a staged rollout (or, with --now, releases to every device at once) and
 * `esp-ota rollout status|pause|resume|advance|abort|rollback PLATFORM` steers it (README "Rollouts").
 */
export function registerRolloutCommands(program: Command, io: CliIo, state: CliState): void {
  const client = (command: Command) => {
    const options = command.optsWithGlobals() as { server?: string; token?: string };
    return new ApiClient(
      options.server ?? process.env.ESP_OTA_URL ?? 'http://localhost:8080',
      options.token ?? process.env.ESP_OTA_TOKEN,
    );
  };
  const run = (work: (command: Command, ...args: string[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      try {
        await work(this, ...(args.filter((a) => typeof a === 'string') as string[]));
      } catch (error) {
        io.err.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        state.exitCode = 1;
      }
    };
  const print = (command: Command, platform: string, rollout: RolloutJson) =>
    io.out.write(
      command.opts<{ json?: boolean }>().json ? `${JSON.stringify(rollout)}\n` : describe(platform, rollout),
    );
  const path = (platform: string) => `/api/v1/platforms/${encodeURIComponent(platform)}`;

  program
    .command('release <platform> <version>')
    .description(
      'start a staged rollout of a kept image (default stages: the platform template, else 1,10,50,100 %); ' +
        'advance it with "esp-ota rollout advance"',
    )
    .option('--stages <percentages>', 'e.g. 1,10,50,100 (the last must be 100)')
    .option('--canary <devices>', 'MACs and device groups served before the first percentage, comma-separated')
    .option('--auto-advance', 'advance by itself after each stage soaks healthy (default: by hand)')
    .option('--now', 'no rollout: release to every device at once')
    .option('--confirm-key-change', 'the image is signed by another key than the released one, and that is intended')
    .option('--json', 'print the rollout as JSON')
    .action(
      run(async (command, platform, version) => {
        const options = command.opts<{
          stages?: string;
          canary?: string;
          autoAdvance?: boolean;
          now?: boolean;
          confirmKeyChange?: boolean;
        }>();
        const confirm = options.confirmKeyChange ? { confirmKeyChange: true } : {};
        const api = client(command);
        if (options.now) {
          const { images } = await api.request<{ images: { id: number; version: string; kind: string }[] }>(
            'GET',
            `${path(platform!)}/firmware`,
          );
          const image = images.find(
            (i) => i.kind === 'app' && i.version.replace(/^v/i, '') === version!.replace(/^v/i, ''),
          );
          if (!image) throw new Error(`${platform} has no application image version ${version}`);
          await api.request(
            'POST',
            `/api/v1/firmware/${image.id}/release${options.confirmKeyChange ? '?confirmKeyChange=true' : ''}`,
          );
          io.out.write(`released ${platform} ${image.version} to every device\n`);
          return;
        }
        const rollout = await api.request<RolloutJson>('POST', `${path(platform!)}/rollouts`, {
          version,
          ...(options.stages ? { stages: parseStages(options.stages) } : {}),
          ...(options.canary ? { canary: parseCanary(options.canary) } : {}),
          ...(options.autoAdvance ? { policy: { autoAdvance: true } } : {}),
          ...confirm,
        });
        print(command, platform!, rollout);
      }),
    );

  const rollout = program.command('rollout').description('see and steer a platform’s staged rollout');
  rollout
    .command('status <platform>')
    .option('--json', 'print the rollout as JSON')
    .action(
      run(async (command, platform) => {
        const { rollouts } = await client(command).request<{ rollouts: RolloutJson[] }>(
          'GET',
          `${path(platform!)}/rollouts`,
        );
        const latest = rollouts[0];
        if (!latest) {
          if (command.opts<{ json?: boolean }>().json) io.out.write('null\n');
          else io.out.write(`${platform}: no rollout yet\n`);
          return;
        }
        print(command, platform!, latest);
      }),
    );
  for (const action of ACTIONS) {
    const sub = rollout
      .command(`${action} <platform>`)
      .option('--stage <n>', 'refuse if the rollout is no longer at this stage (as status shows it, from 1)')
      .option('--json', 'print the rollout as JSON');
    if (action === 'pause') sub.option('--reason <text>', 'why (shown on the platform page and in the event log)');
    sub.action(
      run(async (command, platform) => {
        const options = command.opts<{ stage?: string; reason?: string }>();
        const stage = options.stage === undefined ? undefined : Number(options.stage);
        if (stage !== undefined && !(Number.isInteger(stage) && stage >= 1))
          throw new Error('--stage is a stage number as status shows it (1, 2, …)');
        const result = await client(command).request<RolloutJson>(
          'POST',
          `${path(platform!)}/rollouts/current/${action}`,
          {
            ...(stage !== undefined ? { stageIndex: stage - 1 } : {}),
            ...(options.reason !== undefined ? { reason: options.reason } : {}),
          },
        );
        print(command, platform!, result);
      }),
    );
  }
}
