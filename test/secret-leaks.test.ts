import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listRoutes } from '../src/http/server.js';
import { createLogger } from '../src/lib/logger.js';
import { runCli } from './helpers/cli.js';
import { api, esp8266Request, rawRequest, TEST_ADMIN_PASSWORD, TEST_TOKEN } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { MQTT_AVAILABLE, SHARED_BROKER, TopicRecorder } from './helpers/mqtt-broker.js';

/**
 * Issue 11.2: no secret, password or token reaches an event, a log line, a page, an API answer or an export in
 * clear. Every kind of secret is set through every way there is to set it, used, and then everything a viewer (or
 * anyone) can read is searched for it, together with the server's log and an `esp-ota export`.
 */
const MAC = '5C:CF:7F:00:00:AA';
const secrets = {
  platformSecretByApi: 'leak-platform-secret-api-0123456789',
  platformSecretByForm: 'leak-platform-secret-form-0123456789',
  platformSecretOnCreate: 'leak-platform-secret-create-0123456789',
  deviceSecret: 'leak-device-secret-0123456789',
  wrongDeviceToken: 'leak-wrong-device-token-0123456789',
  addedUserPassword: 'leak-added-user-password-0123',
  passwordChangedByForm: 'leak-changed-password-form-0123',
  passwordChangedByCli: 'leak-changed-password-cli-0123',
  failedLoginPassword: 'leak-failed-login-password-0123',
  adminPassword: TEST_ADMIN_PASSWORD,
  bootstrapToken: TEST_TOKEN,
  mqttPassword: 'leak-mqtt-password-0123456789',
  webhookSecret: 'leak-webhook-secret-0123456789',
};
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describeEachStore('secrets stay out of what people can read (issue 11.2)', (store) => {
  let t: TestApp;
  let logLines = '';
  /** Secrets the server generated during the run (tokens, the session cookie), added as they appear. */
  const generated: Record<string, string> = {};
  let viewerToken: string;
  let outDir: string;
  let recorder: TopicRecorder | undefined;

  const form = (cookie: string, path: string, fields: Record<string, string>) =>
    fetch(t.url + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  const storageFlags = () =>
    store === 'postgres' ? ['--database-url', t.app.config.databaseUrl] : ['--data', t.dataDir];

  beforeAll(async () => {
    const capture = new Writable({
      write(chunk, _encoding, done) {
        logLines += String(chunk);
        done();
      },
    });
    // Issue 16: the broker's password is set too, and everything the server publishes over MQTT is searched.
    const topicPrefix = `esp-ota-leak/${process.pid}-${store}-${Date.now().toString(36)}`;
    if (MQTT_AVAILABLE)
      recorder = await TopicRecorder.connect(SHARED_BROKER, [`${topicPrefix}/#`, `${topicPrefix}-ha/#`]);
    t = await startTestApp(
      store,
      {
        mqttUrl: SHARED_BROKER,
        mqttUsername: 'esp-ota',
        mqttPassword: secrets.mqttPassword,
        mqttTopicPrefix: topicPrefix,
        mqttDiscoveryPrefix: `${topicPrefix}-ha`,
        mqttClientId: `leak-${process.pid}-${store}`,
      },
      { logger: createLogger('trace', capture) },
    );
    outDir = mkdtempSync(join(tmpdir(), 'esp-ota-leak-export-'));
    const host = new URL(t.url).host;

    // A webhook's signing secret (issue 16): returned once when added, never again; its deliveries fail (port 9).
    expect(
      (await api(t.url, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', secret: secrets.webhookSecret }))
        .status,
    ).toBe(201);

    // Platform secrets: on creation and by PATCH (API), and through the settings form (UI).
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Tokened',
      accessMode: 'allowlist',
      deviceAuth: 'token',
      deviceSecret: secrets.platformSecretOnCreate,
    });
    expect(
      (await api(t.url, 'PATCH', '/api/v1/platforms/Tokened', { deviceSecret: secrets.platformSecretByApi })).status,
    ).toBe(200);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Basic', accessMode: 'open' });
    const login = await fetch(`${t.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    generated.sessionCookie = cookie.split('=')[1]!;
    const account = await (await fetch(`${t.url}/account`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(account)![1]!;
    const settings = await form(cookie, '/platforms/Basic/settings', {
      _csrf: csrf,
      accessMode: 'open',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: secrets.platformSecretByForm,
    });
    expect(settings.status).toBe(303);

    // A device's own secret.
    await api(t.url, 'POST', '/api/v1/platforms/Tokened/allowlist', { mac: MAC });
    expect(
      (await api(t.url, 'PUT', `/api/v1/platforms/Tokened/allowlist/${MAC}/secret`, { secret: secrets.deviceSecret }))
        .status,
    ).toBe(204);

    // People and tokens: by API, by form and by the CLI.
    const byApi = await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'ci', role: 'uploader' });
    generated.apiToken = byApi.json.token;
    viewerToken = (await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'eyes', role: 'viewer' })).json
      .token;
    // The form redirects; the page it leads to shows the new token once (carried there by a short-lived cookie).
    const created = await form(cookie, '/account/tokens', { _csrf: csrf, name: 'form', role: 'admin' });
    expect(created.status).toBe(303);
    const flash = created.headers.get('set-cookie')!.split(';')[0]!;
    const byForm = await (
      await fetch(t.url + created.headers.get('location')!, { headers: { cookie: `${cookie}; ${flash}` } })
    ).text();
    generated.formToken = /eota_[A-Za-z0-9_-]+/.exec(byForm)![0];
    const byCli = await runCli('token', 'create', '--name', 'cli', ...storageFlags());
    generated.cliToken = byCli.stdout.trim();
    expect(
      (await runCli('user', 'add', 'carol', '--password', secrets.addedUserPassword, ...storageFlags())).code,
    ).toBe(0);
    expect(
      (await runCli('user', 'passwd', 'carol', '--password', secrets.passwordChangedByCli, ...storageFlags())).code,
    ).toBe(0);
    expect(
      (await form(cookie, '/account/password', { _csrf: csrf, password: secrets.passwordChangedByForm })).status,
    ).toBe(303);
    const failed = await fetch(`${t.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'carol', password: secrets.failedLoginPassword }),
    });
    expect(failed.status).toBe(401);

    // Devices present the secrets (right and wrong, in every place they can put them), so checks are logged.
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Tokened;version=2.0.0'] }),
    );
    const check = (uri: string, authorization?: string) =>
      rawRequest(
        t.url,
        esp8266Request(host, uri, { mac: MAC, version: 'v1.0.0', ...(authorization ? { authorization } : {}) }),
      );
    expect((await check(`/update?dev=Tokened&ver=v1.0.0&token=${secrets.platformSecretByApi}`)).status).toBe(200);
    expect((await check(`/update?dev=Tokened&ver=v1.0.0&token=${secrets.wrongDeviceToken}`)).status).toBe(403);
    expect((await check('/update?dev=Tokened&ver=v1.0.0', `Bearer ${secrets.deviceSecret}`)).status).toBe(200);
    const byHeader = await fetch(`${t.url}/ota/Tokened/app.bin?mac=${MAC}`, {
      headers: { 'x-ota-token': secrets.platformSecretByApi },
    });
    expect(byHeader.status).toBe(200);
    await byHeader.arrayBuffer();
    expect((await check('/update?dev=Basic&ver=v1.0.0', basic('fleet', secrets.platformSecretByForm))).status).toBe(
      304,
    );
    expect((await check('/update?dev=Basic&ver=v1.0.0', basic('fleet', secrets.wrongDeviceToken))).status).toBe(403);
    await t.app.flushActivity();
  });
  afterAll(async () => {
    await t.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  function expectNoSecret(where: string, text: string) {
    const all = { ...secrets, ...generated };
    for (const [name, value] of Object.entries(all)) {
      expect(value.length, name).toBeGreaterThan(10);
      for (const form of [value, encodeURIComponent(value), Buffer.from(value).toString('base64')]) {
        expect(text.includes(form), `${name} in ${where}`).toBe(false);
      }
    }
  }

  it('shows no secret on any route a viewer (or anyone) can read', async () => {
    const image = (await api<{ images: { id: number }[] }>(t.url, 'GET', '/api/v1/platforms/Tokened/firmware')).json
      .images[0]!;
    const fill = (url: string) =>
      url
        .replace(':name', 'Tokened')
        .replace(':mac', MAC)
        .replace(':platform', 'Tokened')
        .replace(':id', String(image.id))
        .replace(':group', 'lab');
    expect((await api(t.url, 'POST', '/api/v1/platforms/Tokened/groups', { name: 'lab' })).status).toBe(201);
    const readable = listRoutes(t.app.http).filter(
      (r) =>
        r.method === 'GET' &&
        (r.access === 'viewer' || r.access === 'public' || r.access === undefined) &&
        !r.url.includes('*') &&
        !r.url.startsWith('/static/') &&
        // A release's install asset needs a real factory image (these fixtures are synthetic): its routes answer 404
        // here. Their whole answers are compared in test/install-assets.test.ts (a manifest of name, version, paths).
        !r.url.includes('install'),
    );
    expect(readable.length).toBeGreaterThan(20);
    const pages = [...readable.map((r) => fill(r.url)), '/events?platform=Basic', `/devices/${MAC}`];
    for (const path of pages) {
      const response = await fetch(t.url + path, { headers: { authorization: `Bearer ${viewerToken}` } });
      expect(response.status, path).toBeLessThan(400);
      let headers = '';
      response.headers.forEach((value, name) => (headers += `${name}: ${value}\n`));
      expectNoSecret(path, headers + (await response.text()));
    }
    // The change events are there, and say what changed.
    const events = await api<{ events: { type: string; detail: string | null }[] }>(t.url, 'GET', '/api/v1/events');
    const updates = events.json.events.filter((e) => e.type === 'platform-updated');
    expect(updates.map((e) => e.detail).sort()).toEqual([
      'device secret changed',
      'deviceAuth: off → basic; deviceUser: none → fleet; device secret set',
    ]);
    expect(events.json.events.some((e) => e.type === 'device-secret-changed')).toBe(true);
  });

  it.skipIf(!MQTT_AVAILABLE)('publishes no secret over MQTT', async () => {
    await t.app.flushActivity();
    await t.app.mqtt!.bridge.settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const payloads = [...recorder!.messages].map(
      ([topic, list]) => `${topic} ${list.map((m) => m.payload).join('\n')}`,
    );
    expect(payloads.some((p) => p.includes('/events/'))).toBe(true);
    expectNoSecret('MQTT', payloads.join('\n'));
    await recorder!.close();
  });

  it('writes no secret into the log', async () => {
    expect(logLines).toContain('device check');
    expectNoSecret('the log', logLines);
  });

  it('exports only hashes of secrets', async () => {
    const exported = await runCli('export', '--out', outDir, ...storageFlags());
    expect(exported.code, exported.stderr).toBe(0);
    const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' })
      .map((f) => join(outDir, f))
      .filter((f) => statSync(f).isFile());
    const catalogue = readFileSync(join(outDir, 'catalogue.yaml'), 'utf8');
    expect(catalogue).toMatch(/deviceSecretHash: [0-9a-f]{64}/);
    expectNoSecret('the export', files.map((f) => readFileSync(f, 'latin1')).join('\n') + exported.stdout);
  });
});
