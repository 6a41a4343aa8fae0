import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCatalogue, type Stores } from '../catalogue.js';
import { describeEachStore, openTestDatabase } from '../../../test/helpers/test-app.js';
import type { RecordedDevice } from './device-store.js';
import { listOutdatedDevices } from './outdated-devices.js';

describeEachStore('outdated devices (issue 11)', (store) => {
  let stores: Stores;
  let close: () => Promise<void>;
  const mac = (n: number) => `5ccf7f0000${n.toString(16).padStart(2, '0')}`;

  beforeAll(async () => {
    const opened = await openTestDatabase(store);
    close = opened.close;
    stores = createCatalogue(opened.db).stores;
    const platform = await stores.platforms.insert({
      name: 'Aging',
      name_key: 'aging',
      chip: null,
      access_mode: 'open',
      released_app_id: null,
      released_fs_id: null,
      app_release_pinned: 0,
      fs_partition_size: null,
      created_at: 0,
      updated_at: 0,
    });
    const image = await stores.images.insert({
      platform_id: platform.id,
      kind: 'app',
      version: '3.0.0',
      version_key: '3.0.0~0',
      chip: null,
      size: 1,
      md5: '0'.repeat(32),
      sha256: '0'.repeat(64),
      appended_digest: null,
      md5_variants: null,
      analysis: '{}',
      identity_source: null,
      filename: null,
      uploaded_at: 0,
    });
    await stores.platforms.update(platform.id, { released_app_id: image.id });
    const device = (n: number, version: string | null, seen: number): RecordedDevice => ({
      mac: mac(n),
      platform_id: platform.id,
      platform_name: 'Aging',
      family: null,
      ip: null,
      reported_version: version,
      sdk_version: null,
      free_space: null,
      chip_size: null,
      sketch_md5: null,
      first_seen_at: seen,
      last_seen_at: seen,
      check_count: 1,
      download_count: 0,
      downloaded_image_id: null,
      downloads_of_release: 0,
      last_decision: 'not-modified',
      last_reason: 'current',
    });
    // Newest first: devices writing the released version differently (which the database cannot tell from another
    // version) crowd out the outdated ones, several seen at the same moment.
    await stores.devices.record([
      device(1, 'v3.0.0', 900),
      device(2, '3.0.0+build.7', 900),
      device(3, 'v3.0', 900),
      device(4, '2.0.0', 800),
      device(5, 'v3.0.0', 700),
      device(6, null, 700),
      device(7, '3.0.0', 700),
      device(8, '1.0.0', 700),
      device(9, 'v3.0.0', 600),
      device(10, 'nightly', 500),
    ]);
  });
  afterAll(() => close());

  it('issue 11: reads page after page until the limit, in the inventory order', async () => {
    const outdated = async (limit: number, pageSize: number) =>
      (await listOutdatedDevices(stores.devices, { limit }, pageSize)).map((d) => d.mac);
    for (const pageSize of [1, 2, 3, 500]) {
      expect(await outdated(10, pageSize), `pages of ${pageSize}`).toEqual([mac(4), mac(8), mac(6), mac(10)]);
      expect(await outdated(2, pageSize), `pages of ${pageSize}`).toEqual([mac(4), mac(8)]);
    }
  });
});
