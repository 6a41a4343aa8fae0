import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../src/http/server.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH, TEST_ADMIN_PASSWORD } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/** Routes anyone may call: the device protocol, health, assets, the login page and (token-guarded) metrics. */
const OPEN_ROUTES = [
  'GET /update',
  'HEAD /update',
  'POST /update',
  'GET /ota/:platform/app.bin',
  'HEAD /ota/:platform/app.bin',
  'GET /ota/:platform/filesystem.bin',
  'HEAD /ota/:platform/filesystem.bin',
  // ESPHome and esp32FOTA (issue 15): device routes, admitted by the platform's rules like the others.
  'GET /ota/:platform/manifest.json',
  'HEAD /ota/:platform/manifest.json',
  'GET /ota/:platform/d/:key/manifest.json',
  'HEAD /ota/:platform/d/:key/manifest.json',
  'GET /ota/:platform/d/:key/firmware.bin',
  'HEAD /ota/:platform/d/:key/firmware.bin',
  'GET /ota/:platform/esp32fota.json',
  'HEAD /ota/:platform/esp32fota.json',
  'POST /ota/:platform/report',
  'GET /tasmota/:platform/:file',
  'HEAD /tasmota/:platform/:file',
  'GET /otadrive/:platform/update',
  'HEAD /otadrive/:platform/update',
  'GET /healthz',
  'HEAD /healthz',
  'GET /metrics',
  'HEAD /metrics',
  'GET /login',
  'HEAD /login',
  'POST /login',
];

async function login(t: TestApp, password = TEST_ADMIN_PASSWORD): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${t.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password, next: '/' }),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${t.url}/account`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

describe('security', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.stop());

  it('answers no route but the open ones without credentials', async () => {
    const routes = listRoutes(t.app.http);
    expect(routes.length).toBeGreaterThan(40);
    const open: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      if (route.access === 'public' || route.access === 'device') {
        open.push(key);
        continue;
      }
      if (route.url.startsWith('/static/')) continue;
      const url = route.url.replace(/:[a-z]+/gi, '1').replace(/\*$/, 'x');
      const response = await fetch(t.url + url, {
        method: route.method,
        redirect: 'manual',
        headers: { accept: 'text/html' },
      });
      if (route.method === 'GET' && !url.startsWith('/api/')) {
        expect([303], key).toContain(response.status);
        expect(response.headers.get('location'), key).toMatch(/^\/login\?next=/);
      } else {
        expect(response.status, key).toBe(401);
      }
    }
    const staticRoutes = routes.filter((r) => r.url.startsWith('/static/')).map((r) => `${r.method} ${r.url}`);
    expect(open.filter((k) => !staticRoutes.includes(k)).sort()).toEqual([...OPEN_ROUTES].sort());
  });

  it('enforces roles: viewer reads, uploader uploads and releases, only admin changes the rest', async () => {
    const viewer = (
      await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'dashboard', role: 'viewer' })
    ).json.token;
    const uploader = (await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'ci', role: 'uploader' }))
      .json.token;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Roles', accessMode: 'open' });
    const as = (token: string, method: string, path: string, body?: BodyInit, type = 'application/json') =>
      fetch(t.url + path, {
        method,
        body,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': type } : {}) },
      });
    expect((await as(viewer, 'GET', '/api/v1/platforms')).status).toBe(200);
    expect((await as(viewer, 'POST', '/api/v1/platforms', JSON.stringify({ name: 'Nope' }))).status).toBe(403);
    const image = new Uint8Array(buildEsp8266App({ strings: ['ESP-OTA:platform=Roles;version=1.0.0'] }));
    expect((await as(viewer, 'POST', '/api/v1/firmware', image, 'application/octet-stream')).status).toBe(403);
    const uploaded = await as(uploader, 'POST', '/api/v1/firmware', image, 'application/octet-stream');
    expect(uploaded.status).toBe(201);
    const id = ((await uploaded.json()) as { image: { id: number } }).image.id;
    expect((await as(uploader, 'POST', `/api/v1/firmware/${id}/release`)).status).toBe(200);
    expect((await as(uploader, 'DELETE', '/api/v1/platforms/Roles')).status).toBe(403);
    expect((await as(uploader, 'GET', '/api/v1/tokens')).status).toBe(403);
    // Groups and pins decide what devices run, like a release: viewers read them, uploaders change them.
    const group = JSON.stringify({ name: 'lab' });
    expect((await as(viewer, 'POST', '/api/v1/platforms/Roles/groups', group)).status).toBe(403);
    expect((await as(uploader, 'POST', '/api/v1/platforms/Roles/groups', group)).status).toBe(201);
    expect((await as(viewer, 'GET', '/api/v1/platforms/Roles/groups/lab')).status).toBe(200);
    const members = JSON.stringify({ macs: ['5CCF7F000001'] });
    expect((await as(viewer, 'POST', '/api/v1/platforms/Roles/groups/lab/members', members)).status).toBe(403);
    expect((await as(uploader, 'POST', '/api/v1/platforms/Roles/groups/lab/members', members)).status).toBe(200);
    const pin = JSON.stringify({ platform: 'Roles', version: '1.0.0' });
    expect((await as(viewer, 'PUT', '/api/v1/devices/5CCF7F000001/pin', pin)).status).toBe(403);
    expect((await as(uploader, 'PUT', '/api/v1/devices/5CCF7F000001/pin', pin)).status).toBe(200);
    expect((await as(viewer, 'DELETE', '/api/v1/devices/5CCF7F000001/pin')).status).toBe(403);
    expect((await as(uploader, 'DELETE', '/api/v1/devices/5CCF7F000001/pin')).status).toBe(204);
  });

  it('revokes a token at once and never lists its secret', async () => {
    const created = await api<{ id: number; token: string }>(t.url, 'POST', '/api/v1/tokens', {
      name: 'short-lived',
      role: 'admin',
    });
    const use = () =>
      fetch(`${t.url}/api/v1/platforms`, { headers: { authorization: `Bearer ${created.json.token}` } });
    expect((await use()).status).toBe(200);
    const listed = await api<{ tokens: Record<string, unknown>[] }>(t.url, 'GET', '/api/v1/tokens');
    expect(JSON.stringify(listed.json)).not.toContain(created.json.token);
    expect(listed.json.tokens.find((tk) => tk.id === created.json.id)).toMatchObject({
      name: 'short-lived',
      revoked: false,
    });
    expect((await api(t.url, 'DELETE', `/api/v1/tokens/${created.json.id}`)).status).toBe(204);
    expect((await use()).status).toBe(401);
  });

  it('refuses a session’s change without its CSRF token', async () => {
    const { cookie, csrf } = await login(t);
    const post = (body: Record<string, string>) =>
      fetch(`${t.url}/platforms`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    expect((await post({ name: 'Forged' })).status).toBe(403);
    expect((await post({ name: 'Forged', _csrf: 'wrong' })).status).toBe(403);
    expect((await post({ name: 'Legit', _csrf: csrf })).status).toBe(303);
    const json = await fetch(`${t.url}/api/v1/platforms`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{"name":"ViaApi"}',
    });
    expect(json.status).toBe(403);
  });

  it('ends other sessions when the password changes, and logs out', async () => {
    const first = await login(t);
    const second = await login(t);
    const change = await fetch(`${t.url}/account/password`, {
      method: 'POST',
      headers: { cookie: second.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: 'a-new-password-42', _csrf: second.csrf }),
    });
    expect(change.status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/platforms`, { headers: { cookie: first.cookie } })).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/platforms`, { headers: { cookie: second.cookie } })).status).toBe(200);
    const out = await fetch(`${t.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: second.cookie, 'x-csrf-token': second.csrf },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${t.url}/api/v1/platforms`, { headers: { cookie: second.cookie } })).status).toBe(401);
    await login(t, 'a-new-password-42');
  });

  it('locks logins after repeated failures, with a clear message', async () => {
    const attempt = (password: string) =>
      fetch(`${t.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'admin', password }),
        redirect: 'manual',
      });
    for (let i = 0; i < 5; i++) expect((await attempt('not-the-password')).status).toBe(401);
    const locked = await attempt('a-new-password-42');
    expect(locked.status).toBe(429);
    expect(await locked.text()).toContain('too many failed logins; try again in 15 minutes');
  });

  it('sends pages with a strict content security policy and no inline script', async () => {
    const page = await fetch(`${t.url}/login`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });

  it('answers ids that are not numbers with 4xx, never 500', async () => {
    for (const path of [
      '/account/tokens/abc/revoke',
      '/platforms/Roles/images/abc/release',
      '/platforms/Roles/images/abc/delete',
    ]) {
      const response = await fetch(t.url + path, { method: 'POST', headers: { ...AUTH, accept: 'text/html' } });
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).toMatch(/there is no (active token|firmware image)/);
    }
    expect((await api(t.url, 'DELETE', '/api/v1/tokens/999999')).json).toMatchObject({ error: 'unknown-token' });
  });

  it('stores passwords as argon2id hashes and tokens only as hashes', async () => {
    const created = await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'hashed', role: 'viewer' });
    const users = await t.app.db.selectFrom('users').selectAll().execute();
    expect(users.map((u) => u.password_hash.startsWith('$argon2id$'))).toEqual([true]);
    const tokens = await t.app.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(tokens)).not.toContain(created.json.token);
    const sessions = await t.app.db.selectFrom('sessions').select('id_hash').execute();
    expect(sessions.every((s) => /^[0-9a-f]{64}$/.test(s.id_hash))).toBe(true);
  });
});
