import { Gauge, type Registry } from 'prom-client';
import { ROLLOUT_DEVICE_STATES, type RolloutDeviceCounts } from '../fleet/rollout-membership.js';

/** One platform's running or paused rollout, as a scrape reports it. */
export interface RolloutMetric {
  /** The platform's name: made by an admin (validated, bounded by the platforms there are), never sent by devices. */
  platform: string;
  state: 'running' | 'paused';
  percent: number;
  devices: RolloutDeviceCounts;
}

const STATES = ['running', 'paused'] as const;

/**
 * Rollout gauges, read at scrape time from the catalogue view and the rollout monitor's counts: the state of each
 * platform's rollout (1 for its state, 0 for the other, so an alert can watch `state="paused"`), its stage's
 * percentage, and its devices by state. Every label but `platform` comes from a closed set.
 */
export function registerRolloutMetrics(registry: Registry, rollouts: () => Promise<RolloutMetric[]>): void {
  let scrape: Promise<RolloutMetric[]> | undefined;
  // The three gauges are collected one after another in one scrape: they share one read.
  const read = () => {
    scrape ??= rollouts().finally(() => setImmediate(() => (scrape = undefined)));
    return scrape;
  };
  new Gauge({
    name: 'esp_ota_rollout_state',
    help: "A platform's running or paused rollout: 1 for its state",
    labelNames: ['platform', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await read())
        for (const state of STATES) this.set({ platform: r.platform, state }, +(r.state === state));
    },
  });
  new Gauge({
    name: 'esp_ota_rollout_stage_percent',
    help: "The share of a platform's devices its rollout's current stage admits (0: only the canary)",
    labelNames: ['platform'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await read()) this.set({ platform: r.platform }, r.percent);
    },
  });
  new Gauge({
    name: 'esp_ota_rollout_devices',
    help: "Devices of a platform's rollout by state (pending, admitted, offered, updated, failed, silent, excluded, pinned)",
    labelNames: ['platform', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await read())
        for (const state of ROLLOUT_DEVICE_STATES) this.set({ platform: r.platform, state }, r.devices[state]);
    },
  });
}
