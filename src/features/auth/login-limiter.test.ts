import { expect, it } from 'vitest';
import { LoginLimiter } from './login-limiter.js';

it('issue 11.6: counts an attempt when it starts and locks the sixth, whichever finishes first', () => {
  const limiter = new LoginLimiter(5, 60_000);
  const keys = ['ip:198.51.100.1', 'user:admin'];
  expect([1, 2, 3, 4, 5, 6].map(() => limiter.attempt(keys, 1000))).toEqual([0, 0, 0, 0, 0, 60_000]);
  expect(limiter.attempt(['ip:198.51.100.2', 'user:admin'], 31_000)).toBe(30_000);
  expect(limiter.attempt(['ip:198.51.100.1', 'user:carol'], 31_000)).toBe(30_000);
  expect(limiter.attempt(keys, 61_000)).toBe(0);
});

it('issue 11.6: forgets expired attempts of names and addresses never seen again', () => {
  const limiter = new LoginLimiter(5, 60_000);
  for (let n = 0; n < 5000; n++) limiter.attempt([`ip:10.0.${n >> 8}.${n & 255}`, `user:guess${n}`], 1000);
  expect(limiter.size).toBe(10_000);
  // Long after the window, a new wave of distinct names: the old entries do not pile up beneath it.
  for (let n = 0; n < 5000; n++) limiter.attempt([`ip:10.1.${n >> 8}.${n & 255}`, `user:again${n}`], 120_000);
  expect(limiter.size).toBeLessThanOrEqual(10_000);
});
