import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { loginSession } from './helpers/http.js';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

interface Event {
  type: string;
  actor: string | null;
  reason: string | null;
  toVersion: string | null;
}

const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=Actors;version=${version}`, 'x'.repeat(2000)] });

/** Issue 12: every change records who made it, a user or an API token by name; never "api" or "ui". */
describeEachStore('the event log names who made each change', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
  });
  afterAll(() => t.stop());

  it('names the token for API changes and the user for changes made in the pages', async () => {
    const { token } = (await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'ci-bot', role: 'admin' }))
      .json;
    const asBot = { authorization: `Bearer ${token}` };
    const send = (method: string, path: string, body?: unknown) => {
      if (body === undefined) return fetch(t.url + path, { method, headers: asBot });
      const raw = body instanceof Uint8Array;
      return fetch(t.url + path, {
        method,
        headers: { ...asBot, 'content-type': raw ? 'application/octet-stream' : 'application/json' },
        body: raw ? new Blob([new Uint8Array(body)]) : JSON.stringify(body),
      });
    };
    expect((await send('POST', '/api/v1/platforms', { name: 'Actors', accessMode: 'open' })).status).toBe(201);
    expect((await send('POST', '/api/v1/firmware', image('1.0.0'))).status).toBe(201);
    const second = (await (await send('POST', '/api/v1/firmware', image('1.1.0'))).json()) as { image: { id: number } };

    // A person in the browser rolls back to 1.0.0 and lists a device.
    const session = await loginSession(t.url);
    const form = (path: string, fields: Record<string, string>) =>
      fetch(t.url + path, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: session.csrf, ...fields }),
      });
    const listed = await api<{ images: { id: number; version: string }[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/Actors/firmware',
    );
    const first = listed.json.images.find((i) => i.version === '1.0.0')!;
    expect((await form(`/platforms/Actors/images/${first.id}/release`, {})).status).toBe(303);
    expect((await form('/platforms/Actors/allowlist', { mac: '5C:CF:7F:00:00:01', label: 'hall' })).status).toBe(303);
    expect((await send('DELETE', `/api/v1/firmware/${second.image.id}`)).status).toBe(204);

    const events = (await api<{ events: Event[] }>(t.url, 'GET', '/api/v1/events?platform=Actors')).json.events;
    const byType = (type: string) => events.filter((e) => e.type === type).map((e) => e.actor);
    expect(byType('platform-created')).toEqual(['token:ci-bot']);
    expect(byType('upload')).toEqual(['token:ci-bot', 'token:ci-bot']);
    expect(byType('release')).toEqual(['admin']);
    expect(byType('device-allowed')).toEqual(['admin']);
    expect(byType('image-deleted')).toEqual(['token:ci-bot']);
    for (const event of events) {
      expect(['api', 'ui']).not.toContain(event.actor);
      expect(['api', 'ui']).not.toContain(event.reason);
    }
  });
});
