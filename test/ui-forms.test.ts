import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, TEST_ADMIN_PASSWORD } from './helpers/http.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl } from './synthetic/openssl.js';
import { signEsp8266 } from './synthetic/signed-images.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

interface Session {
  cookie: string;
  csrf: string;
}

async function logIn(t: TestApp, username: string, password: string): Promise<Session> {
  const response = await fetch(`${t.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, next: '/' }),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${t.url}/account`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

function get(t: TestApp, s: Session, path: string, extraCookie = ''): Promise<Response> {
  return fetch(t.url + path, { headers: { cookie: [s.cookie, extraCookie].filter(Boolean).join('; ') } });
}

function post(t: TestApp, s: Session, path: string, form: Record<string, string>): Promise<Response> {
  return fetch(t.url + path, {
    method: 'POST',
    headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, _csrf: s.csrf }),
    redirect: 'manual',
  });
}

describeEachStore('UI forms and roles', (store) => {
  let t: TestApp;
  let admin: Session;
  let viewer: Session;
  beforeAll(async () => {
    t = await startTestApp(store);
    await t.app.auth.addUser('viewer', 'viewer-password-1', 'viewer');
    admin = await logIn(t, 'admin', TEST_ADMIN_PASSWORD);
    viewer = await logIn(t, 'viewer', 'viewer-password-1');
  });
  afterAll(() => t.stop());

  it('shows a viewer no admin form on the dashboard, devices, events, setup and account pages', async () => {
    for (const path of ['/', '/devices', '/events', '/setup', '/account']) {
      const html = await (await get(t, viewer, path)).text();
      const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
      // Logging out and changing one's own password are every user's; nothing else is.
      expect(
        actions.filter((a) => a !== '/logout' && a !== '/account/password'),
        path,
      ).toEqual([]);
    }
    expect(await (await get(t, admin, '/')).text()).toContain('action="/platforms"');
    expect(await (await get(t, admin, '/account')).text()).toContain('action="/account/tokens"');
  });

  it('keeps the header, navigation and account on error pages', async () => {
    for (const path of ['/platforms/no-such-platform', '/devices/zz', '/no-such-page']) {
      const response = await get(t, viewer, path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      const html = await response.text();
      expect(html, path).toContain('<nav aria-label="Main">');
      expect(html, path).toContain('href="/devices"');
      if (path !== '/no-such-page') expect(html, path).toContain('action="/logout"');
    }
  });

  it('creates a token once: the post redirects, the page shows it once, a reload creates none', async () => {
    const created = await post(t, admin, '/account/tokens', { name: 'CI upload', role: 'uploader' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toMatch(/^\/account\?notice=/);
    const flash = created.headers.get('set-cookie')!.split(';')[0]!;
    expect(created.headers.get('set-cookie')).toContain('HttpOnly');

    const shown = await get(t, admin, created.headers.get('location')!, flash);
    const html = await shown.text();
    expect(html).toMatch(/Copy this token now[^<]*<code>eota_[A-Za-z0-9_-]+<\/code>/);
    expect(html).toContain('Token CI upload created.');
    expect(shown.headers.get('set-cookie')).toMatch(/esp_ota_new_token=; .*Max-Age=0/);

    // The browser dropped the cookie; a reload is a GET, so it shows no token and makes none.
    const reloaded = await (await get(t, admin, created.headers.get('location')!)).text();
    expect(reloaded).not.toContain('Copy this token now');
    expect((await t.app.auth.listTokens()).filter((tok) => tok.name === 'CI upload')).toHaveLength(1);
  });

  it('redirects after a password change and a revoke', async () => {
    const [token] = (await t.app.auth.listTokens()).filter((tok) => tok.name === 'CI upload');
    const revoked = await post(t, admin, `/account/tokens/${token!.id}/revoke`, {});
    expect(revoked.status).toBe(303);
    expect(decodeURIComponent(revoked.headers.get('location')!)).toBe('/account?notice=Token revoked.');

    const changed = await post(t, viewer, '/account/password', { password: 'another-password-2' });
    expect(changed.status).toBe(303);
    expect(changed.headers.get('location')).toMatch(/^\/account\?notice=Password/);
  });

  it('keeps what was typed when a form is refused', async () => {
    const platform = await post(t, admin, '/platforms', { name: 'bad name/with slash', chip: 'esp8266' });
    expect(platform.status).toBe(400);
    const page = await platform.text();
    expect(page).toContain('value="bad name/with slash"');
    expect(page).toContain('value="esp8266"');

    // The group forms on the platform page: a refused name, and refused MACs, come back in their fields.
    expect((await post(t, admin, '/platforms', { name: 'Typed', chip: 'esp8266' })).status).toBe(303);
    const group = await post(t, admin, '/platforms/Typed/groups', { name: 'bad/group' });
    expect(group.status).toBe(400);
    expect(await group.text()).toContain('value="bad/group"');
    expect((await post(t, admin, '/platforms/Typed/groups', { name: 'lab' })).status).toBe(303);
    const members = await post(t, admin, '/platforms/Typed/groups/lab/members', {
      macs: '5C:CF:7F:00:00:01 not-a-mac',
      label: 'shelf',
    });
    expect(members.status).toBe(400);
    const membersPage = await members.text();
    expect(membersPage).toMatch(/<textarea name="macs"[^>]*>5C:CF:7F:00:00:01 not-a-mac<\/textarea>/);
    expect(membersPage).toContain('value="shelf"');

    const token = await post(t, admin, '/account/tokens', { name: 'deploy bot', role: 'superuser' });
    expect(token.status).toBe(400);
    expect(await token.text()).toContain('value="deploy bot"');

    const login = await fetch(`${t.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: 'wrong-password-9', next: '/' }),
    });
    expect(login.status).toBe(401);
    expect(await login.text()).toContain('value="admin"');
  });

  it('asks for the key-change confirmation on the release form, and releases once it is ticked', async () => {
    const openssl = OpenSsl.create();
    try {
      const [oldKey, newKey] = [openssl.rsaKey(2048), openssl.rsaKey(2048)];
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Rotate', accessMode: 'open' });
      for (const key of [oldKey, newKey])
        await api(t.url, 'POST', '/api/v1/platforms/Rotate/keys', { pem: key.publicPem });
      const upload = (key: typeof oldKey, version: string, query = '') =>
        api<{ image: { id: number } }>(
          t.url,
          'POST',
          `/api/v1/platforms/Rotate/firmware?version=${version}${query}`,
          signEsp8266(openssl, key, buildEsp8266App({ strings: [`rotate ${version}`] })),
        );
      await upload(oldKey, '1.0.0', '&release=true');
      const kept = (await upload(newKey, '1.1.0')).json.image.id;

      const refused = await post(t, admin, `/platforms/Rotate/images/${kept}/release`, {});
      expect(refused.status).toBe(409);
      const page = await refused.text();
      expect(page).toMatch(new RegExp(`<details[^>]*id="release-${kept}"[^>]*open`));
      expect(page).toMatch(/<input[^>]*name="confirmKeyChange"[^>]*required/);

      const confirmed = await post(t, admin, `/platforms/Rotate/images/${kept}/release`, { confirmKeyChange: 'true' });
      expect(confirmed.status).toBe(303);
      const platform = await api<{ releasedAppId: number }>(t.url, 'GET', '/api/v1/platforms/Rotate');
      expect(platform.json.releasedAppId).toBe(kept);
    } finally {
      openssl.dispose();
    }
  });
});
