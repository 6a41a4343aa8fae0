import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=Groups;version=${version}`, 'pad'.repeat(40 + version.length)] });
const V1 = image('1.0.0');
const V2 = image('1.1.0');
const V3 = image('1.2.0');

interface Group {
  name: string;
  excluded: boolean;
  pinnedVersion: string | null;
  members: number;
}
interface GroupDetail extends Group {
  macs: string[];
}
interface Event {
  type: string;
  actor: string | null;
  mac: string | null;
  toVersion: string | null;
  detail: string | null;
}

/** Issue 12 §2 "Groups" and issue 14's pin / unpin: groups, exclusion and pins over REST, on both stores. */
describeEachStore('device groups and pins', (store) => {
  let t: TestApp;
  let host: string;
  const check = (mac: string, version: string, sketch: Uint8Array) =>
    rawRequest(t.url, esp8266Request(host, `/update?dev=Groups&ver=${version}`, { mac, sketchMd5: md5(sketch) }));
  const ids = new Map<string, number>();

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'Groups', accessMode: 'open' })).status).toBe(201);
    for (const [version, bytes] of [
      ['1.0.0', V1],
      ['1.1.0', V2],
    ] as const) {
      const up = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', bytes);
      expect(up.status).toBe(201);
      ids.set(version, up.json.image.id);
    }
  });
  afterAll(() => t.stop());

  it('creates groups with unique names per platform, lists them with member counts', async () => {
    const created = await api<Group>(t.url, 'POST', '/api/v1/platforms/Groups/groups', { name: 'lab' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'lab', excluded: false, pinnedVersion: null, members: 0 });
    const again = await api<{ error: string; message: string }>(t.url, 'POST', '/api/v1/platforms/Groups/groups', {
      name: 'LAB',
    });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('lab');
    expect((await api(t.url, 'POST', '/api/v1/platforms/Groups/groups', { name: 'bad/name' })).status).toBe(400);
    expect((await api(t.url, 'POST', '/api/v1/platforms/Nope/groups', { name: 'x' })).status).toBe(404);

    const added = await api<GroupDetail>(t.url, 'POST', '/api/v1/platforms/Groups/groups/lab/members', {
      macs: ['5c:cf:7f:00:00:01', '5CCF7F000002', '5ccf.7f00.0003', '5C-CF-7F-00-00-01'],
    });
    expect(added.status).toBe(200);
    expect(added.json.macs).toEqual(['5C:CF:7F:00:00:01', '5C:CF:7F:00:00:02', '5C:CF:7F:00:00:03']);

    const list = await api<{ groups: Group[] }>(t.url, 'GET', '/api/v1/platforms/Groups/groups');
    expect(list.json.groups).toEqual([expect.objectContaining({ name: 'lab', members: 3 })]);
  });

  it('refuses invalid MACs with a 400 that names them, adding none', async () => {
    const refused = await api<{ message: string }>(t.url, 'POST', '/api/v1/platforms/Groups/groups/lab/members', {
      macs: ['5CCF7F000009', 'not-a-mac', 'zz:zz'],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain('not-a-mac');
    expect(refused.json.message).toContain('zz:zz');
    const lab = await api<GroupDetail>(t.url, 'GET', '/api/v1/platforms/Groups/groups/lab');
    expect(lab.json.macs).not.toContain('5C:CF:7F:00:00:09');
    expect((await api(t.url, 'GET', '/api/v1/platforms/Groups/groups/nothing')).status).toBe(404);
  });

  it('removes members, several at once', async () => {
    const removed = await api<GroupDetail>(t.url, 'DELETE', '/api/v1/platforms/Groups/groups/lab/members', {
      macs: ['5ccf7f000003'],
    });
    expect(removed.status).toBe(200);
    expect(removed.json.macs).toEqual(['5C:CF:7F:00:00:01', '5C:CF:7F:00:00:02']);
  });

  it('adds the allowlisted devices whose label matches', async () => {
    await api(t.url, 'POST', '/api/v1/platforms/Groups/allowlist', { mac: '5CCF7F0000A1', label: 'Kitchen lamp' });
    await api(t.url, 'POST', '/api/v1/platforms/Groups/allowlist', { mac: '5CCF7F0000A2', label: 'kitchen fan' });
    await api(t.url, 'POST', '/api/v1/platforms/Groups/allowlist', { mac: '5CCF7F0000A3', label: 'garage' });
    expect((await api(t.url, 'POST', '/api/v1/platforms/Groups/groups', { name: 'kitchen' })).status).toBe(201);
    const added = await api<GroupDetail>(t.url, 'POST', '/api/v1/platforms/Groups/groups/kitchen/members', {
      allowlistLabel: 'KITCHEN',
    });
    expect(added.status).toBe(200);
    expect(added.json.macs).toEqual(['5C:CF:7F:00:00:A1', '5C:CF:7F:00:00:A2']);
  });

  it('pins a group to a version: its devices get that image, reason pinned, even when a newer one is released', async () => {
    const pinned = await api<Group>(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/lab', { pinnedVersion: '1.0.0' });
    expect(pinned.status).toBe(200);
    expect(pinned.json.pinnedVersion).toBe('1.0.0');
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/lab', { pinnedVersion: '9.9.9' })).status).toBe(
      404,
    );

    // 1.1.0 is released; a lab device running 1.1.0 is offered 1.0.0, a device outside stays on the release.
    const lab = await check('5C:CF:7F:00:00:01', '1.1.0', V2);
    expect(lab.status).toBe(200);
    expect(lab.headers.get('x-ota-reason')).toEqual(['pinned']);
    expect(Buffer.compare(lab.body, V1)).toBe(0);
    const other = await check('5C:CF:7F:00:00:55', '1.1.0', V2);
    expect(other.status).toBe(304);

    const onPin = await check('5C:CF:7F:00:00:02', '1.0.0', V1);
    // A device already on its pin has nothing to do (decide() answers it as current).
    expect(onPin.status).toBe(304);
    expect(onPin.headers.get('x-ota-reason')).toEqual(['current']);
  });

  it('refuses to delete an image a group is pinned to, naming the group', async () => {
    const refused = await api<{ message: string }>(t.url, 'DELETE', `/api/v1/firmware/${ids.get('1.0.0')}`);
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain('lab');
  });

  it('pins a single device directly and unpins it back to automatic', async () => {
    const up = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', V3);
    expect(up.status).toBe(201);
    const pin = await api<{ mac: string; platform: string; version: string }>(
      t.url,
      'PUT',
      '/api/v1/devices/5ccf7f000077/pin',
      { platform: 'Groups', version: '1.1.0' },
    );
    expect(pin.status).toBe(200);
    expect(pin.json).toEqual({ mac: '5C:CF:7F:00:00:77', platform: 'Groups', version: '1.1.0', group: null });
    const held = await check('5C:CF:7F:00:00:77', '1.1.0', V2);
    // 1.2.0 is released, but the device is held on 1.1.0.
    expect(held.status).toBe(304);
    expect(held.headers.get('x-ota-reason')).toEqual(['current']);

    // The device is now known, so its platform need not be named again.
    await t.app.flushActivity();
    expect((await api(t.url, 'PUT', '/api/v1/devices/5C:CF:7F:00:00:77/pin', { version: '1.0.0' })).status).toBe(200);
    const moved = await check('5C:CF:7F:00:00:77', '1.1.0', V2);
    expect(Buffer.compare(moved.body, V1)).toBe(0);

    // A device pin is not a group people see in the list.
    const list = await api<{ groups: Group[] }>(t.url, 'GET', '/api/v1/platforms/Groups/groups');
    expect(list.json.groups.map((g) => g.name)).toEqual(['kitchen', 'lab']);

    const pins = await api<{ pins: { mac: string; version: string }[] }>(
      t.url,
      'GET',
      '/api/v1/devices/5C:CF:7F:00:00:77/pin',
    );
    expect(pins.json.pins).toEqual([{ mac: '5C:CF:7F:00:00:77', platform: 'Groups', version: '1.0.0', group: null }]);

    expect((await api(t.url, 'DELETE', '/api/v1/devices/5ccf7f000077/pin')).status).toBe(204);
    const automatic = await check('5C:CF:7F:00:00:77', '1.1.0', V2);
    expect(automatic.status).toBe(200);
    expect(Buffer.compare(automatic.body, V3)).toBe(0);
    expect((await api(t.url, 'DELETE', '/api/v1/devices/5ccf7f000077/pin')).status).toBe(404);
    expect((await api(t.url, 'PUT', '/api/v1/devices/5ccf7f0000ff/pin', { version: '1.0.0' })).status).toBe(404);
    expect((await api(t.url, 'PUT', '/api/v1/devices/nonsense/pin', { version: '1.0.0' })).status).toBe(400);
  });

  it('shows a device its groups and its pin', async () => {
    const pins = await api<{ pins: { group: string | null; version: string }[]; groups: string[] }>(
      t.url,
      'GET',
      '/api/v1/devices/5CCF7F000001/pin',
    );
    expect(pins.status).toBe(200);
    expect(pins.json.pins).toEqual([{ mac: '5C:CF:7F:00:00:01', platform: 'Groups', version: '1.0.0', group: 'lab' }]);
    expect(pins.json.groups).toEqual([{ platform: 'Groups', name: 'lab', excluded: false, pinnedVersion: '1.0.0' }]);
  });

  it('sets and clears exclusion, unpins, renames and deletes a group; the image can then be deleted', async () => {
    const excluded = await api<Group>(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/lab', {
      excluded: true,
      pinnedVersion: null,
    });
    expect(excluded.json).toMatchObject({ excluded: true, pinnedVersion: null });
    const released = await check('5C:CF:7F:00:00:01', '1.1.0', V2);
    expect(released.status).toBe(200);
    expect(Buffer.compare(released.body, V3)).toBe(0);

    const renamed = await api<Group>(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/lab', { name: 'bench' });
    expect(renamed.json.name).toBe('bench');
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/bench', { name: 'Kitchen' })).status).toBe(409);
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Groups/groups/bench')).status).toBe(204);
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Groups/groups/bench')).status).toBe(404);
    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${ids.get('1.0.0')}`)).status).toBe(204);
  });

  it('records who made every change', async () => {
    const events = (await api<{ events: Event[] }>(t.url, 'GET', '/api/v1/events?platform=Groups&limit=200')).json
      .events;
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'group-created',
      'group-changed',
      'group-deleted',
      'group-members-added',
      'group-members-removed',
      'device-pinned',
      'device-unpinned',
    ]) {
      expect(types).toContain(type);
    }
    for (const event of events.filter((e) => e.type.startsWith('group-') || e.type.startsWith('device-p'))) {
      expect(event.actor).toBe('token:ESP_OTA_API_TOKEN');
    }
    const pinnedEvent = events.find((e) => e.type === 'device-pinned')!;
    expect(pinnedEvent.mac).toBe('5C:CF:7F:00:00:77');
  });

  it('lets viewers read and refuses them changes', async () => {
    const { token } = (await api<{ token: string }>(t.url, 'POST', '/api/v1/tokens', { name: 'eyes', role: 'viewer' }))
      .json;
    const as = (method: string, path: string, body?: unknown) =>
      fetch(t.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await as('GET', '/api/v1/platforms/Groups/groups')).status).toBe(200);
    expect((await as('POST', '/api/v1/platforms/Groups/groups', { name: 'v' })).status).toBe(403);
    expect((await as('PUT', '/api/v1/devices/5ccf7f000001/pin', { version: '1.1.0' })).status).toBe(403);

    // The pages show a viewer the groups and the pin, without the forms that change them.
    await check('5C:CF:7F:00:00:A1', '1.1.0', V2);
    await t.app.flushActivity();
    const page = async (path: string, authorization: string) =>
      (await fetch(t.url + path, { headers: { authorization } })).text();
    const asViewer = await page('/devices/5ccf7f0000a1', `Bearer ${token}`);
    expect(asViewer).toContain('Groups and pin');
    expect(asViewer).toContain('kitchen');
    expect(asViewer).not.toContain('Pin to version');
    const asAdmin = await page('/devices/5ccf7f0000a1', AUTH.authorization);
    expect(asAdmin).toContain('Pin to version');
    expect(await page('/platforms/Groups', `Bearer ${token}`)).not.toContain('Create group');
    expect(await page('/platforms/Groups', AUTH.authorization)).toContain('Create group');
  });

  it('resolves canary group names to their members, refusing unknown names', async () => {
    const platform = await t.app.catalogue.stores.platforms.findByName('Groups');
    expect(await t.app.groups.membersOf(platform!.id, ['kitchen'])).toEqual(['5ccf7f0000a1', '5ccf7f0000a2']);
    await expect(t.app.groups.membersOf(platform!.id, ['kitchen', 'ghosts'])).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('ghosts'),
    });
  });

  it('measures a device against its pin: its status changes when it is pinned and unpinned', async () => {
    expect((await check('5C:CF:7F:00:00:88', '1.2.0', V3)).status).toBe(304);
    const statusOnce = async () => {
      await t.app.view.all();
      await t.app.fleet.settled();
      await t.app.flushActivity();
      const { devices } = (await api<{ devices: { mac: string; status: string }[] }>(t.url, 'GET', '/api/v1/devices'))
        .json;
      return devices.find((d) => d.mac === '5C:CF:7F:00:00:88')?.status;
    };
    // On PostgreSQL this process also hears its own change as a notification, which may invalidate the snapshot
    // while it reloads: the statuses are then recomputed from the next snapshot. Within a second either way.
    const status = async (expected: string) => {
      const deadline = Date.now() + 2_000;
      let seen = await statusOnce();
      while (seen !== expected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await statusOnce();
      }
      return seen;
    };
    expect(await status('current')).toBe('current');
    await api(t.url, 'PUT', '/api/v1/devices/5ccf7f000088/pin', { version: '1.1.0' });
    expect(await status('newer')).toBe('newer');
    await api(t.url, 'DELETE', '/api/v1/devices/5ccf7f000088/pin');
    expect(await status('current')).toBe('current');
  });

  it('deletes a platform whose groups hold pins', async () => {
    await api(t.url, 'PATCH', '/api/v1/platforms/Groups/groups/kitchen', { pinnedVersion: '1.1.0' });
    await api(t.url, 'PUT', '/api/v1/devices/5ccf7f000002/pin', { platform: 'Groups', version: '1.2.0' });
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Groups')).status).toBe(204);
  });
});
