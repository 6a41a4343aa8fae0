import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_POLICY } from '../src/features/rollouts/rollout-policy.js';
import type { RolloutView } from '../src/features/update-check/catalogue-snapshot.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const SECRET = 'platform-secret-0123456789';
const MAC = '5C:CF:7F:00:00:AA';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface EventJson {
  type: string;
  mac: string | null;
  decision: string | null;
  reason: string | null;
  actor: string | null;
  fromVersion: string | null;
  toVersion: string | null;
  occurrences: number;
  detail: string | null;
  status: number | null;
}

/**
 * Issue 12 §3 (last paragraph), issue 15 item 7: clients that can report (ESP-IDF apps, custom code) send an explicit
 * outcome to `POST /ota/<platform>/report`. It is admitted exactly like a check, its body is strict and small, it is
 * recorded as a device event, and a running rollout counts it before anything it inferred.
 */
describeEachStore('explicit outcome reports', (store) => {
  let t: TestApp;
  let host: string;

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Reporting', accessMode: 'open' });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Listed', accessMode: 'allowlist' });
    await api(t.url, 'POST', '/api/v1/platforms/Listed/allowlist', { mac: MAC });
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Locked',
      accessMode: 'open',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: SECRET,
    });
    for (const name of ['Reporting', 'Listed', 'Locked']) {
      const uploaded = await api(
        t.url,
        'POST',
        '/api/v1/firmware',
        buildEsp8266App({ strings: [`ESP-OTA:platform=${name};version=2.0.0`] }),
      );
      expect(uploaded.status).toBe(201);
    }
  });
  afterAll(() => t.stop());

  /** A report as an ESP-IDF client sends it: JSON, the MAC in the query or the body, maybe credentials. */
  const report = (
    platform: string,
    body: unknown,
    options: { query?: string; headers?: Record<string, string>; raw?: string } = {},
  ) =>
    fetch(`${t.url}/ota/${platform}/report${options.query ? `?${options.query}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: options.raw ?? JSON.stringify(body),
    });

  const events = async (mac: string) => {
    await t.app.flushActivity();
    const listed = await api<{ events: EventJson[] }>(
      t.url,
      'GET',
      `/api/v1/events?mac=${encodeURIComponent(mac)}&type=reported`,
    );
    return listed.json.events;
  };

  it('is authenticated like a check: 401 with a challenge without credentials, 403 with wrong ones', async () => {
    const body = { outcome: 'success', version: '2.0.0', mac: MAC };
    const missing = await report('Locked', body);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Basic realm=');
    expect(missing.headers.get('x-ota-reason')).toBe('auth-required');
    const wrong = await report('Locked', body, { headers: { authorization: basic('fleet', 'wrong-secret-000000') } });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-ota-reason')).toBe('bad-credentials');
    const ok = await report('Locked', body, { headers: { authorization: basic('fleet', SECRET) } });
    expect(ok.status).toBe(204);
    // The check answers the same way.
    const check = await rawRequest(t.url, esp8266Request(host, '/update?dev=Locked&ver=1.0.0', { mac: MAC }));
    expect(check.status).toBe(401);
  });

  it('takes a device’s own login: its MAC as the Basic user, named in the body', async () => {
    const own = 'device-secret-abcdefghij';
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'PerDevice',
      accessMode: 'allowlist',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: SECRET,
    });
    await api(t.url, 'POST', '/api/v1/platforms/PerDevice/allowlist', { mac: MAC });
    await api(t.url, 'POST', '/api/v1/platforms/PerDevice/allowlist', { mac: '5C:CF:7F:00:00:BB' });
    const set = await api(t.url, 'PUT', `/api/v1/platforms/PerDevice/allowlist/${encodeURIComponent(MAC)}/secret`, {
      secret: own,
    });
    expect(set.status).toBe(204);
    const body = { outcome: 'success', mac: MAC };
    expect((await report('PerDevice', body)).status).toBe(401);
    expect((await report('PerDevice', body, { headers: { authorization: basic(MAC, own) } })).status).toBe(204);
    // Another listed device cannot report with this one's secret.
    const other = await report(
      'PerDevice',
      { outcome: 'failure', mac: '5C:CF:7F:00:00:BB' },
      { headers: { authorization: basic(MAC, own) } },
    );
    expect(other.status).toBe(403);
    expect(other.headers.get('x-ota-reason')).toBe('bad-credentials');
  });

  it('is admitted like a check: 404 for an unknown platform, 403 off the allowlist', async () => {
    const unknown = await report('Nowhere', { outcome: 'success', mac: MAC });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-ota-reason')).toBe('unknown-platform');
    const unlisted = await report('Listed', { outcome: 'failure', mac: '5C:CF:7F:00:00:BB' });
    expect(unlisted.status).toBe(403);
    expect(unlisted.headers.get('x-ota-reason')).toBe('not-allowed');
    expect(await unlisted.text()).toMatch(/not on the allowlist/);
    const anonymous = await report('Listed', { outcome: 'failure' });
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get('x-ota-reason')).toBe('mac-required');
    // The listed device, named by the query or the ESP8266 headers instead of the body.
    expect((await report('Listed', { outcome: 'success' }, { query: `mac=${MAC}` })).status).toBe(204);
    expect((await report('Listed', { outcome: 'success' }, { headers: { 'x-ESP8266-STA-MAC': MAC } })).status).toBe(
      204,
    );
  });

  it('refuses bad bodies with 400 and a reason, and a large one with 413', async () => {
    const bad: [string, unknown, string?][] = [
      ['unknown field', { outcome: 'success', mac: MAC, extra: 1 }],
      ['unknown outcome', { outcome: 'maybe', mac: MAC }],
      ['missing outcome', { mac: MAC }],
      ['reason too long', { outcome: 'failure', mac: MAC, reason: 'x'.repeat(201) }],
      ['reason with a line break', { outcome: 'failure', mac: MAC, reason: 'a\nb' }],
      ['reason with a bidi override', { outcome: 'failure', mac: MAC, reason: 'abc\u202edef' }],
      ['reason with NUL', { outcome: 'failure', mac: MAC, reason: 'a\u0000b' }],
      ['not a version', { outcome: 'success', mac: MAC, version: 'not a version\t!' }],
      ['not a MAC', { outcome: 'success', mac: 'zz:zz' }],
      ['not an object', ['success']],
      ['not JSON', undefined, '{"outcome": '],
      ['no MAC at all', { outcome: 'success' }],
    ];
    for (const [name, body, raw] of bad) {
      const response = await report('Reporting', body, raw === undefined ? {} : { raw });
      expect(response.status, name).toBe(400);
      expect(response.headers.get('content-type'), name).toMatch(/^text\/plain/);
      expect((await response.text()).trim(), name).not.toBe('');
    }
    const noMac = await report('Reporting', { outcome: 'success' });
    expect(noMac.headers.get('x-ota-reason')).toBe('mac-required');
    const conflicting = await report('Reporting', { outcome: 'success', mac: MAC }, { query: 'mac=5CCF7F0000BB' });
    expect(conflicting.status).toBe(400);
    expect(await conflicting.text()).toMatch(/MAC in the body/);
    const large = await report('Reporting', { outcome: 'failure', mac: MAC, reason: 'x'.repeat(3000) });
    expect(large.status).toBe(413);
    expect(large.headers.get('x-ota-reason')).toBeTruthy();
  });

  it('records success and failure as device events without an actor, and creates a device it never heard from', async () => {
    const mac = '5C:CF:7F:00:01:01';
    const success = await report('Reporting', { outcome: 'success', version: '2.0.0', mac });
    expect(success.status).toBe(204);
    expect(success.headers.get('x-ota-reason')).toBe('no-rollout');
    const [reported] = await events(mac);
    expect(reported).toMatchObject({
      type: 'reported',
      decision: 'success',
      toVersion: '2.0.0',
      actor: null,
      status: 204,
      occurrences: 1,
    });
    const listed = await api<{ devices: { mac: string; platform: string; version: string | null }[] }>(
      t.url,
      'GET',
      '/api/v1/devices?platform=Reporting',
    );
    expect(listed.json.devices.find((d) => d.mac === mac)).toMatchObject({ platform: 'Reporting', version: '2.0.0' });

    const other = '5C:CF:7F:00:01:02';
    expect(
      (
        await report('Reporting', {
          outcome: 'failure',
          version: '2.0.0',
          reason: 'ota_end: image invalid',
          mac: other,
        })
      ).status,
    ).toBe(204);
    const [failure] = await events(other);
    expect(failure).toMatchObject({ decision: 'failure', reason: 'ota_end: image invalid', actor: null });
    expect(failure!.detail).toContain('ota_end: image invalid');
  });

  it('folds a device’s repeated reports into one event', async () => {
    const mac = '5C:CF:7F:00:01:03';
    for (let i = 0; i < 5; i++) expect((await report('Reporting', { outcome: 'failure', mac })).status).toBe(204);
    expect(await events(mac)).toHaveLength(1);
  });

  it('counts a failure report in the running rollout: the device is failed (reported) and not served again', async () => {
    const mac = '5C:CF:7F:00:02:01';
    const view = (await t.app.view.platform('Reporting'))!;
    const rollout: RolloutView = {
      id: 4242,
      state: 'running',
      target: view.app!,
      percent: 100,
      stageIndex: 1,
      stageCount: 2,
      stageStartedAt: Date.now(),
      canary: new Set(),
      policy: DEFAULT_ROLLOUT_POLICY,
    };
    // The rollout engine is not on this branch: the rollout is put into the view the checks read.
    (view as { rollout: RolloutView | undefined }).rollout = rollout;

    const check = () =>
      rawRequest(t.url, esp8266Request(host, '/update?dev=Reporting&ver=1.0.0', { mac, version: '1.0.0' }));
    expect((await check()).status).toBe(200);
    const normalized = mac.replaceAll(':', '').toLowerCase();
    expect(t.app.fleet.registry.get(normalized)!.rollout).toMatchObject({ rolloutId: 4242, state: 'offered' });

    const answer = await report('Reporting', {
      outcome: 'failure',
      version: '2.0.0',
      reason: 'esp_ota_end failed: ESP_ERR_OTA_VALIDATE_FAILED',
      mac,
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('x-ota-reason')).toBe('counted');
    const tracking = t.app.fleet.registry.get(normalized)!.rollout!;
    expect(tracking.state).toBe('failed');
    expect(tracking.failure).toMatch(/^reported: esp_ota_end failed/);
    expect(t.app.fleet.registry.summary.rollout(4242)).toMatchObject({ failed: 1 });

    const again = await check();
    expect(again.status).toBe(304);
    expect(again.headers.get('x-ota-reason')).toEqual(['rollout-failed']);

    await t.app.flushActivity();
    const row = await t.app.db
      .selectFrom('devices')
      .select(['rollout_id', 'rollout_state', 'rollout_failure'])
      .where('mac', '=', normalized)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ rollout_id: 4242, rollout_state: 'failed' });
    expect(row.rollout_failure).toMatch(/^reported: /);
    const [event] = await events(mac);
    expect(event!.detail).toContain('counts it failed');

    // An explicit success outranks it: the device counts as updated.
    const success = await report('Reporting', { outcome: 'success', version: '2.0.0', mac }, {});
    expect(success.headers.get('x-ota-reason')).toBe('counted');
    expect(t.app.fleet.registry.get(normalized)!.rollout!.state).toBe('updated');
    (view as { rollout: RolloutView | undefined }).rollout = undefined;
  });

  it('counts reports by outcome and what became of them in the metrics', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/esp_ota_device_reports_total\{outcome="failure",result="counted"\} 1/);
    expect(text).toMatch(/esp_ota_device_reports_total\{outcome="success",result="refused"\} \d+/);
    expect(text).not.toMatch(
      /esp_ota_device_reports_total\{[^}]*result="(?!counted|no-rollout|not-in-rollout|other-version|refused)/,
    );
  });
});
