import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FleetReader } from '../src/features/fleet/fleet-reader.js';
import { api, AUTH, esp32Request, esp8266Request, rawRequest } from './helpers/http.js';
import { hostileText } from './helpers/hostile-input.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * GET /api/v1/devices with its filters, orders and cursors over a real server (issue 13 §2, issue 14), the counts the
 * dashboard reads from memory, and hostile query strings: every answer is a 200, or a 4xx that says why.
 */

interface DeviceJson {
  mac: string;
  platform: string;
  version: string | null;
  status: string;
  label: string | null;
}
interface ListJson {
  devices: DeviceJson[];
  next: string | null;
  previous: string | null;
  count: number;
  countIsLowerBound: boolean;
}

describeEachStore('GET /api/v1/devices', (store) => {
  let t: TestApp;
  const host = () => new URL(t.url).host;
  const check = async (platform: string, mac: string, version: string, chip: 'esp8266' | 'esp32' = 'esp8266') => {
    const request = chip === 'esp8266' ? esp8266Request : esp32Request;
    await rawRequest(t.url, request(host(), `/update?dev=${platform}&ver=${version}`, { mac, version }));
    await new Promise((r) => setTimeout(r, 2)); // distinct last-seen times, so "newest first" is defined
  };
  const list = async (query: string) => {
    const answer = await api<ListJson>(t.url, 'GET', `/api/v1/devices?${query}`);
    expect(answer.status, query).toBe(200);
    return answer.json;
  };
  const macs = (json: ListJson) => json.devices.map((d) => d.mac);

  beforeAll(async () => {
    // Device rows are written long after the checks: the dashboard's counts must not need them.
    t = await startTestApp(store, { eventFlushMs: 60_000, deviceSeenFlushMs: 600_000 });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Lamp', accessMode: 'open' });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Strip', accessMode: 'open' });
    await api(t.url, 'POST', '/api/v1/platforms/Lamp/allowlist', { mac: '5CCF7F000003', label: 'Kitchen lamp' });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Lamp;version=1.10.0'] }),
    );
    await check('Lamp', '5C:CF:7F:00:00:01', '1.9.0');
    await check('Lamp', '5C:CF:7F:00:00:02', '1.10.0');
    await check('Lamp', '5C:CF:7F:00:00:03', '1.2.0');
    await check('Strip', '24:0A:C4:00:00:04', '2.0.0', 'esp32');
  });
  afterAll(() => t.stop());

  it('counts devices per platform by status and version from memory, before any row is written', async () => {
    const reader = new FleetReader(t.app.catalogue, () => t.app.fleet.registry.summary);
    const lamp = (await reader.dashboard()).summaries.find((s) => s.platform.name === 'Lamp')!;
    expect([lamp.devices, lamp.current, lamp.outdated, lamp.refused]).toEqual([3, 1, 2, 0]);
    expect(Object.fromEntries(lamp.byVersion)).toEqual({ '1.9.0': 1, '1.10.0': 1, '1.2.0': 1 });
    expect(await t.app.catalogue.stores.devices.findByMac('5ccf7f000001')).toBeUndefined();
    await t.app.flushActivity();
  });

  it('filters by platform, status, outdated, version, chip and search, with a count', async () => {
    expect(macs(await list('platform=Strip'))).toEqual(['24:0A:C4:00:00:04']);
    const outdated = await list('outdated=true');
    expect(macs(outdated)).toEqual(['5C:CF:7F:00:00:03', '5C:CF:7F:00:00:01']);
    expect([outdated.count, outdated.countIsLowerBound]).toEqual([2, false]);
    expect(macs(await list('status=current,unknown'))).toEqual(['24:0A:C4:00:00:04', '5C:CF:7F:00:00:02']);
    expect(macs(await list('version=1.9.0'))).toEqual(['5C:CF:7F:00:00:01']);
    expect(macs(await list('chip=ESP32'))).toEqual(['24:0A:C4:00:00:04']);
    expect(macs(await list('search=7f:00:00:0'))).toHaveLength(3);
    const byLabel = await list('search=KITCHEN');
    expect(byLabel.devices.map((d) => [d.mac, d.label])).toEqual([['5C:CF:7F:00:00:03', 'Kitchen lamp']]);
    expect(byLabel.count).toBe(1);
    // A search is not counted beyond its page: "at least 2" while another page follows.
    const searched = await list('search=5ccf7f&limit=2');
    expect([searched.devices.length, searched.count, searched.countIsLowerBound]).toEqual([2, 2, true]);
    expect((await list('search=100%25')).devices).toEqual([]);
  });

  it('sorts by version as versions compare, and pages by cursor both ways', async () => {
    expect(macs(await list('sort=version'))).toEqual([
      '5C:CF:7F:00:00:03',
      '5C:CF:7F:00:00:01',
      '5C:CF:7F:00:00:02',
      '24:0A:C4:00:00:04',
    ]);
    const first = await list('sort=version&dir=desc&limit=3');
    expect(macs(first)).toEqual(['24:0A:C4:00:00:04', '5C:CF:7F:00:00:02', '5C:CF:7F:00:00:01']);
    expect(first.previous).toBeNull();
    const second = await list(`sort=version&dir=desc&limit=3&after=${first.next}`);
    expect(macs(second)).toEqual(['5C:CF:7F:00:00:03']);
    expect(second.next).toBeNull();
    const back = await list(`sort=version&dir=desc&limit=3&before=${second.previous}`);
    expect(macs(back)).toEqual(macs(first));
    expect(back.count).toBe(4);
  });

  it('refuses invalid filters with a 400 that says what is wrong', async () => {
    const first = await list('limit=1');
    for (const [query, says] of [
      ['status=fine', /unknown status: use current, outdated, newer, unknown, refused/],
      ['chip=esp42', /unknown chip: use esp8266 or esp32/],
      ['sort=size', /sort/],
      ['dir=up', /dir/],
      ['limit=0', /limit/],
      ['seenWithinHours=-1', /seenWithinHours/],
      ['after=bm90IGEgY3Vyc29y', /invalid page cursor/],
      [`sort=mac&after=${first.next}`, /invalid page cursor: it belongs to another sort order/],
      [`after=${first.next}&before=${first.next}`, /either after or before/],
      ['search=a%01b', /"search" in the query contains a control character/],
      ['search=a%00b', /NUL/],
    ] as const) {
      const answer = await api<{ message: string }>(t.url, 'GET', `/api/v1/devices?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json.message, query).toMatch(says);
    }
    expect((await api(t.url, 'GET', '/api/v1/devices?platform=Nowhere')).status).toBe(404);
  });

  it('answers any query string with a 200 or a 4xx that says why, never a 5xx (property)', async () => {
    const keys = [
      'platform',
      'status',
      'outdated',
      'version',
      'chip',
      'seenWithinHours',
      'search',
      'sort',
      'dir',
    ].concat(['after', 'before', 'limit']);
    const plausible = fc.constantFrom('Lamp', 'current', 'true', '1.9.0', 'esp32', '1', '5ccf', 'version', 'asc', '3');
    const query = fc.dictionary(fc.constantFrom(...keys), fc.oneof(hostileText, plausible), { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(query, async (values) => {
        const search = new URLSearchParams(values).toString();
        const response = await fetch(`${t.url}/api/v1/devices?${search}`, {
          headers: AUTH,
        });
        const body = (await response.json()) as { message?: string; devices?: unknown[] };
        if (response.status === 200) expect(Array.isArray(body.devices), search).toBe(true);
        else {
          expect([400, 404], search).toContain(response.status);
          expect(body.message, search).toBeTruthy();
        }
      }),
      { numRuns: 150, seed: Number(process.env.ESP_OTA_FUZZ_SEED ?? 5) },
    );
  });
});
