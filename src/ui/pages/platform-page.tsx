import { CsrfField } from '../csrf-field.js';
import type { PlatformDetail } from '../../features/fleet/fleet-reader.js';
import type { ImageView } from '../../features/views.js';
import { CHIP_NAMES } from '../../firmware-image/index.js';
import { formatMac } from '../../lib/mac.js';
import { compareVersions } from '../../lib/version.js';
import type { GroupSummary } from '../../features/groups/group-service.js';
import { Layout } from '../layout.js';
import { PlatformGroups, type GroupDraft } from './group-parts.js';
import { Ago, StatusBadge, formatSize } from '../view-helpers.js';
import { VersionsChart } from '../versions-chart.js';
import { RolloutPanel } from '../rollout-panel.js';
import { InstallPanel } from '../install-panel.js';
import type { InstallAssetView } from '../../features/install/install-asset-service.js';
import { useViewer } from '../session-context.js';
import { roleAllows } from '../../features/auth/roles.js';
import type { RolloutOverview } from '../../features/rollouts/rollout-overview.js';
import { ReleaseConfirm, type VersionCounts } from '../release-confirm.js';
import { rolloutTemplateJson, updateWindowJson } from '../../features/platforms/release-settings.js';
import type { PlatformKeyView } from '../../features/views.js';
import { parseImageSignature } from '../../features/signing/image-signature.js';
import { SignatureState } from '../signature-state.js';

const POLICY_SENTENCES = {
  auto: 'Certain uploads (version stated by the build, newer than the released one) are released by themselves; others wait for a person.',
  manual: 'Uploads are kept until a person releases them.',
  rollout: 'Certain uploads start a staged rollout from the template below; others wait for a person.',
} as const;

export interface PlatformPageProps extends PlatformDetail {
  rollout: RolloutOverview;
  now: number;
  /** The released version's install asset (ESP Web Tools), when it has one. */
  installAsset?: InstallAssetView | undefined;
  /** Its device groups and the app versions they can be pinned to. */
  groups?: GroupSummary[] | undefined;
  versions?: string[] | undefined;
  /** Devices on the platform by the version they run, for "N devices will move from X to Y". */
  deviceVersions: VersionCounts;
  /** A MAC to put in the allowlist form (the dashboard's "allow this device"). */
  allowMac?: string | undefined;
  /** The image whose release confirmation is shown unfolded (after an upload that was kept). */
  openRelease?: number | undefined;
  error?: string | undefined;
  notice?: string | undefined;
  /** The public keys the platform's boards trust (issue 17). */
  keys?: PlatformKeyView[] | undefined;
  /** The image whose release was refused for a key change: its form asks for the confirmation. */
  keyChangeImage?: number | undefined;
  /** What a refused group form held, put back in its fields. */
  groupDraft?: GroupDraft | undefined;
}

/** Where an image's version came from, in words (README "How uploads are identified"). */
const SOURCE_NAMES: Record<string, string> = {
  descriptor: 'the app descriptor',
  marker: 'the build’s marker (or its compiled update URL)',
  'next-to-platform': 'text next to the platform name (inferred)',
  explicit: 'the uploader',
};

export function PlatformPage(props: PlatformPageProps) {
  const { platform, images, allowlist, devices, now } = props;
  const base = `/platforms/${encodeURIComponent(platform.name)}`;
  const viewer = useViewer();
  const window = updateWindowJson(platform.update_window);
  const released = (image: ImageView) => platform.released_app_id === image.id || platform.released_fs_id === image.id;
  const releasedApp = images.find((i) => i.id === platform.released_app_id);
  const isRollback = (image: ImageView) =>
    image.kind === 'app' && releasedApp !== undefined && compareVersions(image.version, releasedApp.version) === -1;
  return (
    <Layout title={platform.name} path={base} error={props.error} notice={props.notice}>
      <p class="muted">
        {platform.chip ? `Images must be built for ${platform.chip}.` : 'The first image sets the chip.'}{' '}
        {platform.access_mode === 'open' ? 'Any device may update.' : 'Only listed devices may update.'}{' '}
        {platform.app_release_pinned
          ? 'The release was chosen by hand: uploads do not move it.'
          : POLICY_SENTENCES[platform.release_policy]}{' '}
        <a href={`/setup?platform=${encodeURIComponent(platform.name)}`}>Connect a board</a>
      </p>

      <section aria-labelledby="keys">
        <h2 id="keys">Signing keys</h2>
        {(props.keys ?? []).length === 0 ? (
          <p class="muted">
            No trusted keys: any image is taken. With a key, only images signed by it are (docs/security.md); add one
            with <code>esp-ota key add {platform.name} public.pem</code>, or adopt the one a signed sketch carries with{' '}
            <code>esp-ota key adopt {platform.name} &lt;image id&gt;</code>.
          </p>
        ) : (
          <ul class="plain">
            {(props.keys ?? []).map((key) => (
              <li data-key-digest={key.digest}>
                <code>{key.digest}</code> {key.type}-{key.bits}
                {key.label && ` (${key.label})`} <span class="muted">added by {key.created_by}</span>
              </li>
            ))}
          </ul>
        )}
        {platform.flash_mode && (
          <p class="muted">
            ESP8266 boards run flash mode {platform.flash_mode.toUpperCase()}: signed images must carry it.
          </p>
        )}
      </section>

      <section aria-labelledby="images">
        <h2 id="images">Images</h2>
        {images.length === 0 ? (
          <p class="muted">
            No images yet. <a href={`/upload?platform=${encodeURIComponent(platform.name)}`}>Upload one</a>.
          </p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Kind</th>
                  <th class="optional">Size</th>
                  <th class="optional">Uploaded</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {images.map((image) => (
                  <tr>
                    <td>
                      <strong>{image.version}</strong> {released(image) && <span class="badge ok">released</span>}
                      {image.identity_source && (
                        <div class="muted">
                          version from {SOURCE_NAMES[image.identity_source] ?? image.identity_source}
                        </div>
                      )}
                      <div class="muted">
                        signature: <SignatureState signature={parseImageSignature(image.signature)} />
                      </div>
                      <details>
                        <summary>digests</summary>
                        <div>
                          MD5 <code>{image.md5}</code>
                        </div>
                        <div>
                          SHA-256 <code>{image.sha256}</code>
                        </div>
                        {image.filename && <div class="muted">file {image.filename}</div>}
                      </details>
                    </td>
                    <td>{image.kind === 'app' ? (image.chip ?? 'app') : 'filesystem'}</td>
                    <td class="optional">{formatSize(image.size)}</td>
                    <td class="optional">
                      <Ago at={image.uploaded_at} now={now} />
                    </td>
                    <td>
                      {!released(image) && (
                        <ReleaseConfirm
                          base={base}
                          image={image}
                          versions={props.deviceVersions}
                          label={isRollback(image) ? 'Roll back to this' : 'Release'}
                          open={props.openRelease === image.id}
                          keyChange={props.keyChangeImage === image.id}
                        />
                      )}{' '}
                      <a href={`/api/v1/firmware/${image.id}/download`}>download</a>{' '}
                      {!released(image) && (
                        <details class="inline">
                          <summary>delete…</summary>
                          <form method="post" action={`${base}/images/${image.id}/delete`}>
                            <CsrfField />
                            <button type="submit" class="danger">
                              Delete {image.version} for good
                            </button>
                          </form>
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <InstallPanel
        base={base}
        released={releasedApp && { id: releasedApp.id, version: releasedApp.version, chip: releasedApp.chip }}
        asset={props.installAsset}
        now={now}
      />

      <section aria-labelledby="allowlist">
        <h2 id="allowlist">Allowed devices</h2>
        <form method="post" action={`${base}/allowlist`} class="row panel" id="allowlist">
          <CsrfField />
          <label>
            MAC address
            <input name="mac" required placeholder="5C:CF:7F:12:34:56" maxLength={32} value={props.allowMac} />
          </label>
          <label>
            Label
            <input name="label" placeholder="hallway sensor" maxLength={100} />
          </label>
          <button type="submit">Allow device</button>
        </form>
        {allowlist.length === 0 ? (
          <p class="muted">No devices listed.</p>
        ) : (
          <ul class="plain panel">
            {allowlist.map((entry) => (
              <li class="row">
                <code>{formatMac(entry.mac)}</code> {entry.label && <span>{entry.label}</span>}
                <form method="post" action={`${base}/allowlist/${entry.mac}/remove`} class="inline">
                  <CsrfField />
                  <button type="submit" class="secondary" aria-label={`Remove ${formatMac(entry.mac)}`}>
                    Remove
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
      </section>

      {props.groups && (
        <PlatformGroups
          platform={platform.name}
          groups={props.groups}
          versions={props.versions ?? []}
          draft={props.groupDraft}
        />
      )}

      <section aria-labelledby="settings">
        <h2 id="settings">Settings</h2>
        <form method="post" action={`${base}/settings`} class="row panel">
          <CsrfField />
          <label>
            Access
            <select name="accessMode">
              <option value="allowlist" selected={platform.access_mode === 'allowlist'}>
                only listed devices
              </option>
              <option value="open" selected={platform.access_mode === 'open'}>
                any device (still logged)
              </option>
            </select>
          </label>
          <label>
            Chip
            <select name="chip">
              <option value="">not set</option>
              {CHIP_NAMES.map((chip) => (
                <option value={chip} selected={chip === platform.chip}>
                  {chip}
                </option>
              ))}
            </select>
          </label>
          <label>
            Device login
            <select name="deviceAuth">
              <option value="off" selected={platform.device_auth === 'off'}>
                none
              </option>
              <option value="basic" selected={platform.device_auth === 'basic'}>
                HTTP Basic
              </option>
              <option value="token" selected={platform.device_auth === 'token'}>
                token
              </option>
            </select>
          </label>
          <label>
            Device user (Basic)
            <input name="deviceUser" value={platform.device_user ?? ''} maxLength={64} autocomplete="off" />
          </label>
          <label>
            Device secret {platform.device_secret_hash ? '(set; empty keeps it)' : ''}
            <input name="deviceSecret" type="password" minLength={16} maxLength={200} autocomplete="new-password" />
          </label>
          <label>
            Release policy
            <select name="releasePolicy">
              <option value="auto" selected={platform.release_policy === 'auto'}>
                auto: release certain uploads
              </option>
              <option value="manual" selected={platform.release_policy === 'manual'}>
                manual: a person releases
              </option>
              <option value="rollout" selected={platform.release_policy === 'rollout'}>
                rollout: certain uploads start a rollout
              </option>
            </select>
          </label>
          <label>
            Rollout template (JSON, empty for the defaults)
            <textarea name="rolloutTemplate" rows={2} cols={40} maxLength={4000} placeholder='{"stages":[1,10,50,100]}'>
              {platform.rollout_template ? JSON.stringify(rolloutTemplateJson(platform.rollout_template)) : ''}
            </textarea>
          </label>
          <label>
            Update window from
            <input name="windowFrom" placeholder="02:00" maxLength={5} value={window?.from ?? ''} />
          </label>
          <label>
            to
            <input name="windowTo" placeholder="05:00" maxLength={5} value={window?.to ?? ''} />
          </label>
          <label>
            time zone
            <input name="windowTimeZone" placeholder="UTC" maxLength={64} value={window?.timeZone ?? ''} />
          </label>
          <button type="submit">Save</button>
        </form>
      </section>

      <section aria-labelledby="rollout">
        <h2 id="rollout">Rollout</h2>
        <RolloutPanel
          base={base}
          {...props.rollout}
          canSteer={viewer !== undefined && roleAllows(viewer.role, 'uploader')}
          candidates={images.filter((i) => i.kind === 'app' && i.id !== platform.released_app_id).map((i) => i.version)}
          now={now}
        />
      </section>

      <section aria-labelledby="versions">
        <h2 id="versions">Devices per version</h2>
        <VersionsChart samples={props.versionSamples} now={now} />
      </section>

      <section aria-labelledby="devices">
        <h2 id="devices">Devices</h2>
        {devices.length === 0 ? (
          <p class="muted">No device has checked in yet.</p>
        ) : (
          <ul class="plain panel">
            {devices.map((d) => (
              <li>
                <a href={`/devices/${d.mac}`}>{formatMac(d.mac)}</a> runs {d.reported_version ?? 'an unknown version'}{' '}
                <StatusBadge device={d} />{' '}
                <span class="muted">
                  <Ago at={d.last_seen_at} now={now} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
