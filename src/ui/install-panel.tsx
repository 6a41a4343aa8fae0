import type { HTMLAttributes } from 'preact';
import type { InstallAssetView } from '../features/install/install-asset-service.js';
import { CsrfField } from './csrf-field.js';
import { useCan, useViewer } from './session-context.js';
import { Ago, formatSize } from './view-helpers.js';

declare module 'preact' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      /** ESP Web Tools' custom element: `manifest` is the URL of the install manifest. */
      'esp-web-install-button': HTMLAttributes<HTMLElement> & { manifest: string };
    }
  }
}

const ROLE_NAMES = {
  factory: 'factory image',
  bootloader: 'bootloader',
  'partition-table': 'partition table',
  app: 'application',
} as const;

/**
 * "Install from a browser": ESP Web Tools' install button for the released version's install asset (flashed over
 * Web Serial from this page; the module and its chunks come from /static, never a CDN), and the forms that attach
 * or remove that asset. Only ESP32-family releases can carry one.
 */
export function InstallPanel(props: {
  base: string;
  released: { id: number; version: string; chip: string | null } | undefined;
  asset: InstallAssetView | undefined;
  now: number;
}) {
  const { asset, released, base } = props;
  const viewer = useViewer();
  const canAdd = useCan('uploader');
  const canRemove = useCan('admin');
  if (!released || !released.chip?.startsWith('esp32')) return null;
  // Multipart bodies are read after the access check, so the CSRF token travels in the URL.
  const addAction = `${base}/images/${released.id}/install-asset${viewer?.csrf ? `?_csrf=${encodeURIComponent(viewer.csrf)}` : ''}`;
  return (
    <section aria-labelledby="install">
      <h2 id="install">Install from a browser</h2>
      {asset ? (
        <div class="panel">
          <script type="module" src="/static/esp-web-tools/install-button.js"></script>
          <p>
            Connect a new board by USB and write version <strong>{asset.version}</strong> to it from this page (Chrome
            or Edge on a computer: they have Web Serial).
          </p>
          <esp-web-install-button manifest={asset.manifestPath}>
            <button slot="activate" type="button">
              Install {asset.version}
            </button>
            <span slot="unsupported" class="muted">
              This browser cannot talk to a serial port: use Chrome or Edge on a computer.
            </span>
            <span slot="not-allowed" class="muted">
              Web Serial needs this page over HTTPS (or on localhost).
            </span>
          </esp-web-install-button>
          <p class="muted">
            Writes{' '}
            {asset.parts
              .map((p) => `${ROLE_NAMES[p.role]} (${formatSize(p.size)}) at 0x${p.offset.toString(16)}`)
              .join(', ')}
            ; added by {asset.createdBy} <Ago at={asset.createdAt} now={props.now} />.
          </p>
          {canRemove && (
            <details class="inline">
              <summary>remove…</summary>
              <form method="post" action={`${base}/images/${asset.imageId}/install-asset/remove`}>
                <CsrfField />
                <button type="submit" class="danger">
                  Remove the install files of {asset.version}
                </button>
              </form>
            </details>
          )}
        </div>
      ) : (
        <p class="muted">
          Version {released.version} has no install files yet: add a factory image (esptool merge_bin, PlatformIO
          firmware.factory.bin) or the build's bootloader, partition table and app to offer an install button here.
        </p>
      )}
      {canAdd && !asset && (
        <div class="row">
          <form method="post" action={addAction} enctype="multipart/form-data" class="row panel">
            <label>
              Factory image of {released.version}
              <input type="file" name="factory" accept=".bin,application/octet-stream" required />
            </label>
            <button type="submit">Add factory image</button>
          </form>
          <form method="post" action={addAction} enctype="multipart/form-data" class="row panel">
            <label>
              Bootloader
              <input type="file" name="bootloader" accept=".bin,application/octet-stream" required />
            </label>
            <label>
              Partition table
              <input type="file" name="partitions" accept=".bin,application/octet-stream" required />
            </label>
            <label>
              App ({released.version})
              <input type="file" name="app" accept=".bin,application/octet-stream" required />
            </label>
            <button type="submit">Add the three parts</button>
          </form>
        </div>
      )}
    </section>
  );
}
