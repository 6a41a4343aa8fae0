import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

async function page(t: TestApp, path: string): Promise<{ status: number; html: string }> {
  const response = await fetch(t.url + path, { headers: AUTH });
  return { status: response.status, html: await response.text() };
}

/** The MACs in the page's event table, in order. */
function macsOf(html: string): string[] {
  return [...html.matchAll(/<a href="\/devices\/([0-9a-f]{12})">/g)].map((m) => m[1]!);
}

async function checkIn(t: TestApp, platform: string, mac: string, version: string): Promise<void> {
  const response = await fetch(`${t.url}/update?dev=${platform}&ver=${version}`, {
    headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': mac, 'x-esp8266-version': version },
  });
  await response.arrayBuffer();
}

describeEachStore('events page', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
    const created = await fetch(`${t.url}/api/v1/platforms`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lamp', accessMode: 'allowlist' }),
    });
    expect(created.status).toBe(201);
    // 60 devices refused (not on the allowlist): 60 first-seen-free refusals, one event each.
    for (let i = 0; i < 60; i++) {
      await checkIn(
        t,
        'Lamp',
        `A4:CF:12:00:${String(Math.floor(i / 10)).padStart(2, '0')}:${String(i % 10).padStart(2, '0')}`,
        '1.0.0',
      );
    }
    await checkIn(t, 'Nowhere', 'DE:AD:BE:EF:00:01', '1.0.0');
    await t.app.flushActivity();
  });
  afterAll(() => t.stop());

  it('names outcomes as the device badges do and colours them', async () => {
    const { html } = await page(t, '/events');
    expect(html).toContain('<option value="refuse">refused</option>');
    expect(html).toContain('<option value="serve">update offered</option>');
    expect(html).toMatch(/<tr class="outcome-bad">.*?<span class="badge bad">refused<\/span>/s);
  });

  it('filters by event type', async () => {
    const { html } = await page(t, '/events?type=platform-created');
    expect(html).toContain('<option value="platform-created" selected>platform-created</option>');
    expect(html).toContain('<td>platform-created</td>');
    expect(html).not.toContain('<td>refused</td>');
  });

  it('finds events by part of a MAC in any format', async () => {
    const dashed = await page(t, '/events?mac=05-05');
    expect(dashed.status).toBe(200);
    expect(new Set(macsOf(dashed.html))).toEqual(new Set(['a4cf12000505']));
    const prefix = await page(t, '/events?mac=de:ad');
    expect(macsOf(prefix.html)).toEqual(['deadbeef0001']);
    const whole = await page(t, '/events?mac=A4CF12000307');
    expect(macsOf(whole.html)).toEqual(['a4cf12000307']);
    const bad = await page(t, '/events?mac=xyz%25');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('is not a MAC address or part of one');
  });

  it('pages older and newer by event id', async () => {
    const first = await page(t, '/events?decision=refuse');
    expect(macsOf(first.html)).toHaveLength(50);
    expect(first.html).not.toContain('Newer events');
    const older = /href="(\/events\?[^"]*before=\d+)"/.exec(first.html)![1]!.replaceAll('&amp;', '&');
    expect(older).toContain('decision=refuse');
    const second = await page(t, older);
    expect(macsOf(second.html)).toHaveLength(11);
    expect(second.html).not.toContain('Older events');
    const newer = /href="(\/events\?[^"]*after=\d+)"/.exec(second.html)![1]!.replaceAll('&amp;', '&');
    const back = await page(t, newer);
    expect(macsOf(back.html)).toEqual(macsOf(first.html));
    expect(back.html).not.toContain('Newer events');
  });

  it('offers the same through GET /api/v1/events: after= and macContains=', async () => {
    const get = async (query: string) => {
      const response = await fetch(`${t.url}/api/v1/events?${query}`, { headers: AUTH });
      return { status: response.status, body: (await response.json()) as { events: { id: number; mac: string }[] } };
    };
    const first = await get('decision=refuse&limit=10');
    const second = await get(`decision=refuse&limit=10&before=${first.body.events.at(-1)!.id}`);
    const back = await get(`decision=refuse&limit=10&after=${second.body.events[0]!.id}`);
    expect(back.body.events.map((e) => e.id)).toEqual(first.body.events.map((e) => e.id));
    const part = await get('macContains=05:05');
    expect(part.body.events.map((e) => e.mac)).toEqual(['A4:CF:12:00:05:05']);
    expect((await get('macContains=zz')).status).toBe(400);
  });
});
