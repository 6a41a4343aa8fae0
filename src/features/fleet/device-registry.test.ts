import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceEntry } from './device-entry.js';
import { DeviceRegistry } from './device-registry.js';
import { DEVICE_STATUSES, type DeviceStatus } from './device-status.js';
import type { OutcomeState } from '../rollouts/device-outcome.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const entry = (mac: string, platformId: number, status: DeviceStatus, version: string | null) =>
  new DeviceEntry(
    mac,
    platformId,
    `P${platformId}`,
    version,
    null,
    'not-modified',
    'current',
    status,
    0,
    T0,
    T0,
    null,
    0,
    null,
  );

describe('device registry counts', () => {
  it('always equal the counts of its entries, whatever changes', () => {
    const op = fc.record({
      mac: fc.integer({ min: 0, max: 30 }).map((n) => n.toString(16).padStart(12, '0')),
      kind: fc.constantFrom('insert', 'change', 'remove', 'rollout'),
      platform: fc.integer({ min: 1, max: 3 }),
      status: fc.constantFrom(...DEVICE_STATUSES),
      version: fc.constantFrom(null, '1.0.0', '1.1.0', '2.0.0'),
      outcome: fc.constantFrom<OutcomeState | null>(null, 'offered', 'updated', 'failed', 'silent'),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const registry = new DeviceRegistry();
        for (const o of ops) {
          const existing = registry.get(o.mac);
          if (o.kind === 'insert' || !existing) registry.insert(entry(o.mac, o.platform, o.status, o.version));
          else if (o.kind === 'remove') registry.remove(o.mac);
          else
            registry.change(existing, (e) => {
              if (o.kind === 'change') {
                e.platformId = o.platform;
                e.status = o.status;
                e.runningVersion = o.version;
              } else {
                e.rollout = o.outcome && {
                  rolloutId: 7,
                  state: o.outcome,
                  attempts: 1,
                  firstServedAt: T0,
                  lastServedAt: T0,
                  checksSinceServed: 0,
                  outcomeAt: null,
                  failure: null,
                };
              }
            });
        }
        const entries = [...registry.entries()];
        for (const platform of [1, 2, 3]) {
          const own = entries.filter((e) => e.platformId === platform);
          const counts = registry.summary.platform(platform);
          expect(counts.total).toBe(own.length);
          for (const status of DEVICE_STATUSES)
            expect(counts.byStatus[status]).toBe(own.filter((e) => e.status === status).length);
          for (const version of [null, '1.0.0', '1.1.0', '2.0.0'])
            expect(counts.byVersion.get(version) ?? 0).toBe(own.filter((e) => e.runningVersion === version).length);
        }
        const outcomes = registry.summary.rollout(7);
        for (const state of ['offered', 'updated', 'failed', 'silent'] as const)
          expect(outcomes[state]).toBe(entries.filter((e) => e.rollout?.state === state).length);
        // As sets: compared by MAC (a plain sort() leaves objects in their order, which the sets need not keep).
        const macs = (list: Iterable<DeviceEntry>) => [...list].map((e) => e.mac).sort();
        expect(macs(registry.awaitingOutcome(7))).toEqual(macs(entries.filter((e) => e.rollout?.state === 'offered')));
        expect(macs(registry.failing(7))).toEqual(
          macs(entries.filter((e) => e.rollout?.state === 'failed' || e.rollout?.state === 'silent')),
        );
        expect(registry.seen.countSince(T0, 60_000)).toBe(entries.length);
      }),
    );
  });
});
