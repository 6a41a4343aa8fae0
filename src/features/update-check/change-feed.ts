import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { CHANNELS, chunkPayloads, NotificationListener, notify } from '../../db/notifications.js';
import type { Catalogue } from '../catalogue.js';
import type { Fleet } from '../fleet/fleet.js';
import { takeInStoredRows } from '../fleet/registry-sync.js';
import type { CatalogueView } from './catalogue-view.js';

interface Logger {
  info(object: unknown, message: string): void;
  warn(object: unknown, message: string): void;
  error(object: unknown, message: string): void;
}

export interface ChangeFeedDeps {
  /** The PostgreSQL URL: the listener opens a connection of its own. */
  url: string;
  db: Database;
  catalogue: Catalogue;
  view: CatalogueView;
  fleet: Fleet;
  log: Logger;
}

export interface ChangeFeed {
  /** This instance's id in device notifications (its own are ignored). */
  instanceId: string;
  close(): Promise<void>;
}

/** Device rows read per query when another instance names them. */
const RELOAD_CHUNK = 1_000;
const PAGE = 20_000;

/**
 * Keeps this instance in step with the others on one PostgreSQL database (docs/deployment.md "Several instances"):
 *
 * - Catalogue writes send `esp_ota_catalogue` on their own transaction (features/catalogue.ts); on hearing it the
 *   view is invalidated, so the next device check reads the new catalogue. While the listening connection is down
 *   the view's periodic refresh (`catalogueRefreshMs`) still applies; on reconnection the view is invalidated, since
 *   notifications may have been missed.
 * - After this instance writes changed devices, it names their MACs on `esp_ota_devices`; the others re-read those
 *   rows into their registries (fleet/registry-sync.ts), so a device moving between instances is never judged
 *   against a stale entry. Heartbeats are not announced: their counters add up in the database and the last-seen
 *   time follows with the next change. On reconnection every row is re-read, in pages.
 *
 * Not used with SQLite, which has one process per database.
 */
export async function startChangeFeed(deps: ChangeFeedDeps): Promise<ChangeFeed> {
  const { db, catalogue, view, fleet, log } = deps;
  const instanceId = randomBytes(6).toString('hex');
  const prefix = `${instanceId}|`;
  let wanted = new Set<string>();
  let reloading: Promise<void> | undefined;
  let resync = false;

  const reload = async () => {
    await fleet.ready();
    while (wanted.size > 0 || resync) {
      if (resync) {
        resync = false;
        wanted.clear();
        let after = '';
        for (;;) {
          const rows = await catalogue.stores.deviceWrites.page(after, PAGE);
          takeInStoredRows(fleet.registry, rows);
          if (rows.length < PAGE) break;
          after = rows.at(-1)!.mac;
          await new Promise((resolve) => setImmediate(resolve));
        }
        continue;
      }
      const macs = [...wanted].slice(0, RELOAD_CHUNK);
      for (const mac of macs) wanted.delete(mac);
      takeInStoredRows(fleet.registry, await catalogue.stores.deviceWrites.byMacs(macs));
    }
  };
  const scheduleReload = () => {
    reloading ??= reload()
      .catch((err: unknown) => log.error({ err }, 'could not re-read devices another instance changed'))
      .finally(() => {
        reloading = undefined;
        if (wanted.size > 0 || resync) scheduleReload();
      });
  };

  const listener = new NotificationListener(
    deps.url,
    {
      [CHANNELS.catalogue]: () => view.invalidate(),
      [CHANNELS.devices]: (payload) => {
        const bar = payload.indexOf('|');
        if (bar < 0 || payload.slice(0, bar + 1) === prefix) return;
        for (const mac of payload.slice(bar + 1).split(',')) if (mac) wanted.add(mac);
        scheduleReload();
      },
    },
    {
      connected: (again) => {
        if (!again) return;
        log.info({}, 'listening for other instances’ changes again');
        view.invalidate();
        resync = true;
        scheduleReload();
      },
      lost: (err) =>
        log.warn(
          { err },
          'lost the connection that hears other instances’ changes; reconnecting, refreshing meanwhile',
        ),
    },
  );

  // One after another, so that closing can wait for the last (it follows the final flush of device activity).
  let publishing: Promise<void> = Promise.resolve();
  fleet.writer.onChangesWritten = (macs) => {
    publishing = publishing
      .then(async () => {
        for (const payload of chunkPayloads(prefix, macs)) await notify(db, CHANNELS.devices, payload);
      })
      .catch((err: unknown) => log.warn({ err }, 'could not tell other instances about changed devices'));
  };

  await listener.start();
  return {
    instanceId,
    close: async () => {
      fleet.writer.onChangesWritten = () => undefined;
      await publishing;
      await listener.close();
      await reloading;
      wanted = new Set();
    },
  };
}
