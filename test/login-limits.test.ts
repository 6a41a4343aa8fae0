import { afterEach, describe, expect, it } from 'vitest';
import { api, requestFrom } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

/** A login form posted from the given local address, answered with its status. */
async function loginFrom(url: string, localAddress: string, username: string, password: string): Promise<number> {
  const response = await requestFrom(localAddress, `${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  return response.status;
}

/**
 * Issue 11.6: the lockout counts attempts before their hash, and password hashes cannot starve file I/O. Each hash
 * takes up to a second on a loaded machine, hence the long timeouts; nothing here measures time.
 */
describe('login limits under concurrency (issue 11.6)', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.stop());

  it('issue 11.6: 39 wrong passwords and the right one at once — 5 failures, the rest 429', async () => {
    t = await startTestApp('sqlite');
    const url = t.url;
    const wrong = Array.from({ length: 39 }, (_, n) => loginFrom(url, '127.0.0.1', 'admin', `wrong-password-${n}`));
    // The right one goes out once the server has answered one of the wrong ones: by then the lock must be taken.
    await Promise.race(wrong);
    const right = await loginFrom(url, '127.0.0.1', 'admin', 'admin-password-123');
    const statuses = await Promise.all(wrong);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(34);
    expect(right).toBe(429);
  }, 120_000);

  it('issue 11.6: a burst of logins hashes a bounded number at a time, and an upload finishes during it', async () => {
    t = await startTestApp('sqlite');
    const url = t.url;
    await api(url, 'POST', '/api/v1/platforms', { name: 'Busy', accessMode: 'open' });
    // Distinct addresses and names, so no lock stops the burst: every attempt needs a hash.
    const LOGINS = 20;
    let answered = 0;
    const logins = Array.from({ length: LOGINS }, (_, n) =>
      loginFrom(url, `127.0.0.${n + 2}`, `nobody${n}`, 'some-wrong-password').then((status) => {
        answered++;
        return status;
      }),
    );
    await Promise.race(logins);
    const upload = await api(
      url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Busy;version=1.0.0'] }),
    );
    const pendingWhenUploaded = LOGINS - answered;
    expect(upload.status).toBe(201);
    expect(await Promise.all(logins)).toEqual(Array.from({ length: LOGINS }, () => 401));
    // The upload's file I/O did not queue behind the hashes: most logins were still waiting for theirs.
    expect(pendingWhenUploaded).toBeGreaterThanOrEqual(LOGINS / 2);
    const hasher = t.app.auth.hasher;
    expect(hasher.peakInFlight).toBeGreaterThanOrEqual(1);
    expect(hasher.peakInFlight).toBeLessThanOrEqual(hasher.maxInFlight);
    expect(hasher.maxInFlight).toBeLessThan(4); // libuv's thread pool, which file I/O shares
  }, 120_000);
});
