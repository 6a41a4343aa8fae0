import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, runCliProcess, spawnCli } from './helpers/cli-run.js';
import { TEST_TOKEN } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

/** Issue 14 (CLI): every REST capability as a command, run as its own process against a real server. */
describe('esp-ota client commands, each in a process of its own', { timeout: 240_000 }, () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-cli-commands-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite', { uploadLimit: 64 * 1024 });
  });
  afterAll(() => t.stop());

  const cli = (args: string[], stdin?: string) =>
    runCliProcess(args, { env: { ESP_OTA_URL: t.url, ESP_OTA_TOKEN: TEST_TOKEN }, cwd: dir, stdin });
  const image = (name: string, marker: string) => {
    const file = join(dir, name);
    writeFileSync(file, buildEsp8266App({ strings: [marker] }));
    return file;
  };

  it('prints help without arguments, the version with --version, and a description for every command', async () => {
    const bare = await runCliProcess([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: esp-ota');
    expect(bare.stdout).toMatch(/-V, --version/);
    for (const group of ['platform', 'allow', 'firmware', 'devices', 'events', 'user', 'token'])
      expect(bare.stdout).toMatch(new RegExp(`^  ${group}\\b.*\\S+\\s{2,}\\S`, 'm'));
    const version = await runCliProcess(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    const platformHelp = await runCliProcess(['platform', '--help']);
    for (const sub of ['list', 'show', 'add', 'set', 'rm'])
      expect(platformHelp.stdout).toMatch(new RegExp(`^  ${sub}\\b.*  \\w`, 'm'));
  });

  it('manages platforms: add, set every setting, show, list as a table or JSON, rm', async () => {
    expect((await cli(['platform', 'list'])).stdout).toBe(
      'no platforms yet; add one with `esp-ota platform add <name>`\n',
    );
    expect((await cli(['platform', 'add', 'Porch', '--chip', 'esp8266'])).stdout).toContain('created platform Porch');
    const set = await cli([
      'platform',
      'set',
      'Porch',
      '--access',
      'open',
      '--fs-size',
      '1MiB',
      '--device-login',
      'basic',
      '--device-user',
      'porch',
      '--device-secret',
      'a-long-shared-secret',
    ]);
    expect(set).toMatchObject({ code: 0 });
    const list = (await cli(['platform', 'list'])).stdout.split('\n');
    expect(list[0]).toMatch(/^NAME\s+CHIP\s+ACCESS\s+RELEASED\s+DEVICE LOGIN$/);
    expect(list[1]).toMatch(/^Porch\s+esp8266\s+open\s+-\s+basic$/);
    const show = await cli(['platform', 'show', 'Porch', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'Porch',
      accessMode: 'open',
      fsPartitionSize: 1048576,
      deviceAuth: 'basic',
      deviceUser: 'porch',
      deviceSecretSet: true,
    });
    expect((await cli(['platform', 'show', 'Porch'])).stdout).toMatch(/^filesystem partition\s+1048576 bytes$/m);
    expect((await cli(['platform', 'set', 'Porch', '--chip', 'none', '--device-login', 'off'])).code).toBe(0);
    expect(JSON.parse((await cli(['platform', 'show', 'Porch', '--json'])).stdout)).toMatchObject({
      chip: null,
      deviceAuth: 'off',
    });
    const policy = [
      ...['platform', 'set', 'Porch', '--release-policy', 'rollout', '--rollout-stages', '5,50,100'],
      ...['--update-window', '22:00-05:00@Europe/Berlin'],
    ];
    expect((await cli(policy)).code).toBe(0);
    expect(JSON.parse((await cli(['platform', 'show', 'Porch', '--json'])).stdout)).toMatchObject({
      releasePolicy: 'rollout',
      rolloutTemplate: { stages: [5, 50, 100] },
      updateWindow: { from: '22:00', to: '05:00', timeZone: 'Europe/Berlin' },
    });
    expect((await cli(['platform', 'show', 'Porch'])).stdout).toMatch(
      /^update window\s+22:00–05:00 \(Europe\/Berlin\)$/m,
    );
    // Issue 15: ESP8266 gzip and the Tasmota minimal platform.
    expect((await cli(['platform', 'add', 'Porch-minimal', '--chip', 'esp8266'])).code).toBe(0);
    expect(
      (await cli(['platform', 'set', 'Porch', '--gzip', 'auto', '--minimal-platform', 'Porch-minimal'])).code,
    ).toBe(0);
    expect(JSON.parse((await cli(['platform', 'show', 'Porch', '--json'])).stdout)).toMatchObject({
      esp8266Gzip: 'auto',
      minimalPlatform: 'Porch-minimal',
    });
    expect((await cli(['platform', 'show', 'Porch'])).stdout).toMatch(/^Tasmota minimal platform\s+Porch-minimal$/m);
    expect((await cli(['platform', 'set', 'Porch', '--minimal-platform', 'none'])).code).toBe(0);
    expect((await cli(['platform', 'set', 'Porch', '--gzip', 'zip'])).code).toBe(2);
    const badWindow = await cli(['platform', 'set', 'Porch', '--update-window', 'late']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toContain('--update-window must look like');
    const badStages = await cli(['platform', 'set', 'Porch', '--rollout-stages', '50,10']);
    expect(badStages.code).toBe(1);
    const nothing = await cli(['platform', 'set', 'Porch']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to change');
    const missing = await cli(['platform', 'show', 'Nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('there is no platform named "Nope" (404)');
    expect((await cli(['platform', 'rm', 'Porch'])).stdout).toBe('deleted platform Porch\n');
  });

  it('allows several MACs at once, from the command line and from stdin with labels', async () => {
    await cli(['platform', 'add', 'Shed']);
    expect((await cli(['allow', 'list', 'Shed'])).stdout).toContain('no devices allowed on Shed');
    const many = await cli(['allow', 'add', 'Shed', '5ccf7f000001', '5c-cf-7f-00-00-02', '--label', 'spare']);
    expect(many.stdout).toBe('allowed 5C:CF:7F:00:00:01 (spare) on Shed\nallowed 5C:CF:7F:00:00:02 (spare) on Shed\n');
    const fromStdin = await cli(
      ['allow', 'add', 'Shed', '--from', '-'],
      '# the shed\n5ccf7f000003 left window\n\n5C:CF:7F:00:00:04,door\n',
    );
    expect(fromStdin.code).toBe(0);
    const list = await cli(['allow', 'list', 'Shed']);
    expect(list.stdout).toMatch(/^MAC\s+LABEL\s+ADDED$/m);
    expect(list.stdout).toMatch(/^5C:CF:7F:00:00:03\s+left window\s+\d{4}-/m);
    expect(list.stdout).toMatch(/^5C:CF:7F:00:00:04\s+door\s+/m);
    const file = join(dir, 'macs.txt');
    writeFileSync(file, '5ccf7f000005 porch lamp\n');
    expect((await cli(['allow', 'add', 'Shed', '--from', file])).stdout).toContain('5C:CF:7F:00:00:05 (porch lamp)');
    const typo = await cli(['allow', 'add', 'Shed', '5ccf7f000006', 'not-a-mac']);
    expect(typo).toMatchObject({ code: 2 });
    expect(typo.stderr).toContain('not MAC addresses: not-a-mac; nothing was added');
    expect(JSON.parse((await cli(['allow', 'list', 'Shed', '--json'])).stdout)).toHaveLength(5);
    expect((await cli(['allow', 'rm', 'Shed', '5ccf7f000001', '5ccf7f000002'])).code).toBe(0);
    expect(JSON.parse((await cli(['allow', 'list', 'Shed', '--json'])).stdout)).toHaveLength(3);
  });

  it('lists, shows, releases, downloads and deletes images', async () => {
    await cli(['platform', 'add', 'Gate', '--chip', 'esp8266']);
    expect((await cli(['firmware', 'list', 'Gate'])).stdout).toContain('no images on Gate');
    const v1 = image('gate1.bin', 'ESP-OTA:platform=Gate;version=1.0.0');
    const v2 = image('gate2.bin', 'ESP-OTA:platform=Gate;version=1.1.0');
    expect((await cli(['upload', v1])).code).toBe(0);
    expect((await cli(['upload', v2])).code).toBe(0);
    const images = JSON.parse((await cli(['firmware', 'list', 'Gate', '--json'])).stdout) as {
      id: number;
      version: string;
    }[];
    const [newer, older] = images;
    expect(images.map((i) => i.version)).toEqual(['1.1.0', '1.0.0']);
    const table = (await cli(['firmware', 'list', 'Gate'])).stdout;
    expect(table).toMatch(/^ID\s+VERSION\s+KIND\s+CHIP\s+SIZE\s+UPLOADED\s+RELEASED\s+SIGNATURE$/m);
    expect(table).toMatch(
      new RegExp(`^${newer!.id}\\s+1\\.1\\.0\\s+app\\s+esp8266\\s+\\d+\\s+\\S+\\s+yes\\s+unsigned$`, 'm'),
    );
    expect((await cli(['firmware', 'show', String(older!.id)])).stdout).toMatch(/^version\s+1\.0\.0 \(from marker\)$/m);
    expect((await cli(['firmware', 'release', String(older!.id)])).stdout).toBe(
      `released image ${older!.id} on Gate\n`,
    );
    const out = join(dir, 'back.bin');
    const download = await cli(['firmware', 'download', String(older!.id), '-o', out]);
    expect(download.stdout).toMatch(/^wrote \d+ bytes to .*back\.bin \(md5 [0-9a-f]{32}\)$/m);
    expect(readFileSync(out)).toEqual(readFileSync(v1));
    const refused = await cli(['firmware', 'rm', String(older!.id)]);
    expect(refused.code).toBe(1);
    expect((await cli(['firmware', 'rm', String(newer!.id)])).stdout).toBe(`deleted image ${newer!.id}\n`);
    const gone = await cli(['firmware', 'download', String(newer!.id), '-o', join(dir, 'gone.bin')]);
    expect(gone.code).toBe(1);
    expect(existsSync(join(dir, 'gone.bin'))).toBe(false);
    expect((await cli(['firmware', 'show', 'abc'])).code).toBe(2);
  });

  it('lists devices with filters and events as tables, with an after filter', async () => {
    await cli(['platform', 'add', 'Door', '--chip', 'esp8266', '--open']);
    await cli(['upload', image('door.bin', 'ESP-OTA:platform=Door;version=2.0.0')]);
    expect((await cli(['devices', '--platform', 'Door'])).stdout).toBe('no devices match these filters\n');
    for (const [mac, version] of [
      ['5C:CF:7F:AA:00:01', '1.0.0'],
      ['5C:CF:7F:AA:00:02', '2.0.0'],
    ])
      await fetch(`${t.url}/update?dev=Door&ver=${version}`, { headers: { 'x-esp8266-sta-mac': mac! } });
    await t.app.flushActivity();
    const devices = await cli(['devices', '--platform', 'Door', '--seen-within', '1']);
    expect(devices.stdout).toMatch(/^MAC\s+PLATFORM\s+VERSION\s+STATUS\s+LAST SEEN\s+LAST ANSWER\s+LABEL$/m);
    expect(devices.stdout.trim().split('\n')).toHaveLength(3);
    const outdated = JSON.parse((await cli(['devices', '--platform', 'Door', '--outdated', '--json'])).stdout) as {
      mac: string;
    }[];
    expect(outdated.map((d) => d.mac)).toEqual(['5C:CF:7F:AA:00:01']);
    const events = await cli(['events', '--platform', 'Door']);
    expect(events.stdout).toMatch(/^ID\s+AT\s+TYPE\s+PLATFORM\s+MAC\s+VERSION\s+REASON\s+BY$/m);
    const all = JSON.parse((await cli(['events', '--platform', 'Door', '--json'])).stdout) as { id: number }[];
    const after = JSON.parse(
      (await cli(['events', '--platform', 'Door', '--after', String(all[1]!.id), '--json'])).stdout,
    ) as { id: number }[];
    expect(after.map((e) => e.id)).toEqual([all[0]!.id]);
    expect((await cli(['events', '--platform', 'Nowhere'])).stdout).toBe('no events match\n');
  });

  it('devices: status, search, version order and pages by cursor; events by part of a MAC (issue 14)', async () => {
    // The two Door devices of the test before: 1.0.0 (outdated) and 2.0.0 (current).
    const json = async (args: string[]) => JSON.parse((await cli(args)).stdout) as { mac: string }[];
    expect((await json(['devices', '--status', 'outdated', '--json'])).map((d) => d.mac)).toEqual([
      '5C:CF:7F:AA:00:01',
    ]);
    expect((await json(['devices', '--search', 'aa:00:02', '--json'])).map((d) => d.mac)).toEqual([
      '5C:CF:7F:AA:00:02',
    ]);
    const first = await cli(['devices', '--platform', 'Door', '--sort', 'version', '--reverse', '--limit', '1']);
    expect(first.stdout).toMatch(
      /^MAC\s+PLATFORM\s+VERSION\s+STATUS\s+LAST SEEN\s+LAST ANSWER\s+LABEL\n5C:CF:7F:AA:00:02\s/,
    );
    expect(first.stderr).toContain('1 shown of 2 matching');
    const cursor = /next page: --after (\S+)/.exec(first.stderr)![1]!;
    const second = await cli(
      ['devices', '--platform', 'Door', '--sort', 'version', '--reverse', '--limit', '1'].concat(['--after', cursor]),
    );
    expect(second.stdout).toMatch(/\n5C:CF:7F:AA:00:01\s/);
    expect(second.stderr).not.toContain('next page');
    const badStatus = await cli(['devices', '--status', 'fine']);
    expect([badStatus.code, badStatus.stderr]).toEqual([2, expect.stringContaining('"fine" is not one of current')]);
    expect((await cli(['devices', '--chip', 'esp42'])).code).toBe(2);
    const wrongCursor = await cli(['devices', '--sort', 'mac', '--after', cursor]);
    expect([wrongCursor.code, wrongCursor.stderr]).toEqual([1, expect.stringContaining('invalid page cursor')]);
    const events = await json(['events', '--mac-contains', 'aa0001', '--json']);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.mac))).toEqual(new Set(['5C:CF:7F:AA:00:01']));
  });

  it('follows events with -f until SIGINT, printing each new one once', async () => {
    await cli(['platform', 'add', 'Follow', '--open']);
    const child = spawnCli(['events', '-f', '--platform', 'Follow', '--interval', '1'], {
      env: { ESP_OTA_URL: t.url, ESP_OTA_TOKEN: TEST_TOKEN },
    });
    const done = outcome(child);
    let seen = '';
    child.stdout!.on('data', (c) => (seen += c));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(seen); i++) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toMatch(pattern);
    };
    await waitFor(/^ID\s+AT\s+TYPE/m);
    await cli(['upload', image('follow.bin', 'ESP-OTA:platform=Follow;version=3.0.0')]);
    await waitFor(/upload\s+Follow/);
    await fetch(`${t.url}/update?dev=Follow&ver=1.0.0`, { headers: { 'x-esp8266-sta-mac': '5C:CF:7F:BB:00:01' } });
    await t.app.flushActivity();
    await waitFor(/5C:CF:7F:BB:00:01/);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout.match(/upload\s+Follow/g)).toHaveLength(1);
  });
});

describe('esp-ota client errors name their cause and fix, with documented exit codes', { timeout: 120_000 }, () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-cli-errors-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite', { uploadLimit: 64 * 1024 });
  });
  afterAll(() => t.stop());
  const run = (args: string[], token?: string) =>
    runCliProcess(args, { env: { ESP_OTA_URL: t.url, ...(token ? { ESP_OTA_TOKEN: token } : {}) } });

  // 64 MiB: big enough that the server stops reading and closes while the old client was still writing (EPIPE).
  it('an upload over the limit says 413 and the limit, not EPIPE', async () => {
    await run(['platform', 'add', 'Big', '--open'], TEST_TOKEN);
    const file = join(dir, 'big.bin');
    writeFileSync(
      file,
      Buffer.concat([
        buildEsp8266App({ strings: ['ESP-OTA:platform=Big;version=1.0.0'] }),
        Buffer.alloc(64 * 1024 * 1024),
      ]),
    );
    const result = await run(['upload', file], TEST_TOKEN);
    expect(result.stderr).toContain('413');
    expect(result.stderr).toContain('65536 bytes');
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.code).toBe(1);
  });

  it('tells a missing token from a wrong one (exit 4)', async () => {
    const none = await run(['platform', 'list']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('no API token given');
    const wrong = await run(['platform', 'list'], 'eota_not-a-real-token');
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('refused the API token');
  });

  it('says a file is missing without a stack trace, refuses --limit abc itself, and exits 3 without a server', async () => {
    const missing = await run(['upload', join(dir, 'nope.bin')], TEST_TOKEN);
    expect(missing).toMatchObject({ code: 2, stderr: `error: there is no file ${join(dir, 'nope.bin')}\n` });
    const limit = await run(['events', '--limit', 'abc'], TEST_TOKEN);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain("option '--limit <n>' argument 'abc' is invalid");
    expect(limit.stderr).not.toContain('querystring');
    const away = await runCliProcess(['--server', 'http://127.0.0.1:9', 'platform', 'list']);
    expect(away.code).toBe(3);
    expect(away.stderr).toContain('cannot reach the server at http://127.0.0.1:9');
  });
});
