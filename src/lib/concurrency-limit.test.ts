import { expect, it } from 'vitest';
import { ConcurrencyLimit, ConcurrencyLimitFull } from './concurrency-limit.js';

it('runs at most max at once, queues maxWaiting in order and refuses the rest at once (issue 11.6)', async () => {
  const limit = new ConcurrencyLimit(2, 3);
  const started: number[] = [];
  const release: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  const job = (n: number) => () => {
    started.push(n);
    running++;
    peak = Math.max(peak, running);
    return new Promise<number>((resolve) =>
      release.push(() => {
        running--;
        resolve(n);
      }),
    );
  };
  const accepted = [0, 1, 2, 3, 4].map((n) => limit.run(job(n)));
  await expect(limit.run(job(5))).rejects.toBeInstanceOf(ConcurrencyLimitFull);
  await Promise.resolve();
  expect(started).toEqual([0, 1]);
  for (let turn = 0; turn < 20 && (release.length > 0 || started.length < 5); turn++) {
    release.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(await Promise.all(accepted)).toEqual([0, 1, 2, 3, 4]);
  expect(started).toEqual([0, 1, 2, 3, 4]);
  expect(peak).toBe(2);
  expect(limit.peakInFlight).toBe(2);
  // Everything finished: the full number of slots is free again.
  const again = [limit.run(async () => 'a'), limit.run(async () => 'b')];
  expect(await Promise.all(again)).toEqual(['a', 'b']);
});
