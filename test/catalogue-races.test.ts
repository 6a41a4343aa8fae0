import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthService } from '../src/features/auth/auth-service.js';
import { AuthStore } from '../src/features/auth/auth-store.js';
import { systemClock } from '../src/lib/clock.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/** Each race is run this many times, on a fresh platform each time; on PostgreSQL before the fix most runs lost. */
const ROUNDS = 10;

const image = (platform: string, version: string, filler = '') =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=${platform};version=${version}`, filler] });

interface ImageListing {
  platform: { releasedAppId: number | null };
  images: { id: number; version: string; released: boolean }[];
}

/**
 * Catalogue writes that arrive at the same moment, through real HTTP. SQLite runs one transaction at a time; on
 * PostgreSQL two transactions used to read the same release pointer and both move it (the lower version could end
 * released), a release and a delete of one image could both succeed (the pointer left on a deleted image), and two
 * uploads of one version both passed the check and one then failed on the unique index with a 500.
 */
describeEachStore('issue 11.3: concurrent catalogue writes', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
  });
  afterAll(() => t.stop());

  const createPlatform = async (name: string) =>
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name, accessMode: 'open' })).status).toBe(201);
  const listing = async (name: string) =>
    (await api<ImageListing>(t.url, 'GET', `/api/v1/platforms/${name}/firmware`)).json;

  it('8 concurrent uploads of 2.0.0–2.0.7 leave the highest released', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `Uploads${round}`;
      await createPlatform(name);
      const versions = Array.from({ length: 8 }, (_, i) => `2.0.${i}`);
      const answers = await Promise.all(
        versions.map((v) => api<{ released: boolean }>(t.url, 'POST', '/api/v1/firmware', image(name, v))),
      );
      expect(answers.map((a) => a.status)).toEqual(versions.map(() => 201));
      const { images } = await listing(name);
      expect(
        images.filter((i) => i.released).map((i) => i.version),
        `round ${round}`,
      ).toEqual(['2.0.7']);
    }
  }, 120_000);

  it('of a concurrent release and delete of one image exactly one wins, and the pointer stays on a kept image', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `ReleaseDelete${round}`;
      await createPlatform(name);
      const old = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', image(name, '1.0.0'));
      expect((await api(t.url, 'POST', '/api/v1/firmware', image(name, '1.1.0'))).status).toBe(201);
      const id = old.json.image.id;
      const [release, remove] = await Promise.all([
        api(t.url, 'POST', `/api/v1/firmware/${id}/release`),
        api(t.url, 'DELETE', `/api/v1/firmware/${id}`),
      ]);
      const outcome = `round ${round}: release ${release.status}, delete ${remove.status}`;
      // Release first: the delete is refused (409). Delete first: the release finds no image (404).
      expect(['200/409', '404/204'], outcome).toContain(`${release.status}/${remove.status}`);
      const { platform, images } = await listing(name);
      expect(
        images.some((i) => i.id === platform.releasedAppId),
        outcome,
      ).toBe(true);
      const device = await fetch(`${t.url}/update?dev=${name}&ver=0.0.1`, {
        headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:01', 'x-esp8266-version': '0.0.1' },
      });
      expect(device.status, outcome).toBe(200);
      await device.arrayBuffer();
    }
  }, 120_000);

  it('of concurrent uploads of one version one is kept and the others get 409 version-exists', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `SameVersion${round}`;
      await createPlatform(name);
      // Different bytes, same version: each passes the analysis on its own.
      const answers = await Promise.all(
        [0, 1, 2, 3].map((n) =>
          api<{ error?: string }>(t.url, 'POST', '/api/v1/firmware', image(name, '3.0.0', 'x'.repeat(n))),
        ),
      );
      expect(answers.map((a) => a.status).sort(), `round ${round}`).toEqual([201, 409, 409, 409]);
      expect(answers.filter((a) => a.status === 409).map((a) => a.json.error)).toEqual(Array(3).fill('version-exists'));
      expect((await listing(name)).images).toHaveLength(1);
    }
  }, 120_000);

  it('of concurrent creates of names differing only in case one is kept and the others get 409 platform-exists', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const names = [`Case${round}`, `CASE${round}`, `case${round}`, `cAsE${round}`];
      const answers = await Promise.all(
        names.map((name) => api<{ error?: string }>(t.url, 'POST', '/api/v1/platforms', { name })),
      );
      expect(answers.map((a) => a.status).sort(), `round ${round}`).toEqual([201, 409, 409, 409]);
      expect(answers.filter((a) => a.status === 409).map((a) => a.json.error)).toEqual(
        Array(3).fill('platform-exists'),
      );
    }
  }, 120_000);

  it('renaming two platforms to names differing only in case at once keeps one and answers 409', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await createPlatform(`RenameA${round}`);
      await createPlatform(`RenameB${round}`);
      const answers = await Promise.all([
        api<{ error?: string }>(t.url, 'PATCH', `/api/v1/platforms/RenameA${round}`, { name: `Target${round}` }),
        api<{ error?: string }>(t.url, 'PATCH', `/api/v1/platforms/RenameB${round}`, { name: `TARGET${round}` }),
      ]);
      expect(answers.map((a) => a.status).sort(), `round ${round}`).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 409)?.json.error).toBe('platform-exists');
    }
  }, 120_000);

  it('of concurrent adds of one user name one is kept and the others get user-exists', async () => {
    // Hashing the password takes a while between the check for the name and the insert, on either store.
    const auth = new AuthService(new AuthStore(t.app.db), systemClock, '');
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() => auth.addUser('alice', 'a long enough password', 'viewer')),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code?: string }).code] : []))).toEqual([
      'user-exists',
      'user-exists',
    ]);
  });
});
