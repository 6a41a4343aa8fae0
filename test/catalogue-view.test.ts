import { expect, it } from 'vitest';
import { createCatalogue, type Catalogue } from '../src/features/catalogue.js';
import type { PlatformStore } from '../src/features/platforms/platform-store.js';
import { PlatformService } from '../src/features/platforms/platform-service.js';
import { CatalogueView } from '../src/features/update-check/catalogue-view.js';
import { systemClock } from '../src/lib/clock.js';
import { describeEachStore, openTestDatabase } from './helpers/test-app.js';

/**
 * A catalogue whose next read of the platforms is held after it has read them, until the test lets it go: a reload
 * of the device view that is "in flight" across a write, on every run.
 */
function withHeldRead(catalogue: Catalogue) {
  let holding = false;
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const real = catalogue.stores.platforms;
  const platforms: PlatformStore = Object.assign(Object.create(real) as PlatformStore, {
    list: async () => {
      const rows = await real.list();
      if (holding) {
        holding = false;
        reached();
        await new Promise<void>((resolve) => (release = resolve));
      }
      return rows;
    },
  });
  return {
    catalogue: { ...catalogue, stores: { ...catalogue.stores, platforms } },
    /** Holds the next read; resolves once that read has its (old) rows. */
    holdNextRead: () => {
      holding = true;
      return new Promise<void>((resolve) => (reached = resolve));
    },
    release: () => release(),
  };
}

describeEachStore('issue 11.10: a device check sees every write that completed before it started', (store) => {
  it('does not join a reload of the catalogue that began before the write', async () => {
    const { db, close } = await openTestDatabase(store);
    try {
      const held = withHeldRead(createCatalogue(db));
      const view = new CatalogueView(held.catalogue, systemClock, { refreshMs: 60_000 });
      const platforms = new PlatformService(createCatalogue(db), systemClock, () => view.invalidate());

      const readStarted = held.holdNextRead();
      const before = view.platform('Fresh'); // starts a reload, which reads the catalogue without "Fresh"
      await readStarted;
      await platforms.create({ name: 'Fresh', accessMode: 'open' }, 'test'); // completes, and invalidates the view
      const after = view.platform('Fresh'); // starts after the write completed
      held.release();

      expect((await after)?.name).toBe('Fresh');
      expect(await before).toBeUndefined(); // it began before the write: either answer would be right, this is it
      expect((await view.platform('Fresh'))?.name).toBe('Fresh');
    } finally {
      await close();
    }
  });
});
