import { PlatformSelect } from '../platform-select.js';
import type { PlatformView } from '../../features/views.js';
import { Layout } from '../layout.js';
import { boardSnippets, type Snippet } from '../board-snippets.js';
import { CsrfField } from '../csrf-field.js';
import { useCan } from '../session-context.js';
import type { DeviceKey } from '../../features/device-keys/device-key-service.js';

export interface SetupView {
  platforms: PlatformView[];
  /** The platform asked for (may not exist yet: its code can be written before it is created). */
  selected: string;
  serverUrl: string;
  /** Why boards could not reach `serverUrl`, when they could not (localhost, a loopback address). */
  unreachable?: string | undefined;
  /** The platform's device keys (per-device ESPHome manifest URLs). */
  deviceKeys?: DeviceKey[];
  /** The device whose key fills in the ESPHome code. */
  device?: DeviceKey | undefined;
  /** Whether keys can be minted here (the key service is wired in). */
  canMintKeys?: boolean;
  notice?: string | undefined;
  error?: string | undefined;
}

/** Ready-to-paste device code with this server's URL, the platform's name and its device login filled in. */
export function SetupPage(props: SetupView) {
  const name = props.selected || 'MyPlatform';
  const platform = props.platforms.find((p) => p.name === props.selected);
  const device = props.device ? { mac: props.device.mac, key: props.device.key } : undefined;
  const snippets = boardSnippets({ serverUrl: props.serverUrl, name, platform, device });
  return (
    <Layout title="Connect a board" path="/setup" notice={props.notice} error={props.error}>
      <form method="get" action="/setup" class="row panel">
        <PlatformSelect names={props.platforms.map((p) => p.name)} selected={props.selected} />
        <button type="submit">Show code</button>
      </form>
      {props.unreachable && (
        <div class="message warn" role="note">
          {props.unreachable} Set <code>publicUrl</code> (see docs/configuration.md) to the address boards use, e.g.{' '}
          <code>http://ota.lan:8080</code>.
        </div>
      )}
      <p>
        Boards check <code>{props.serverUrl}</code>. Call <code>checkForUpdate()</code> now and then (for example every
        hour). Raise <code>FW_VERSION</code> for each build; the server reads it from the uploaded image.{' '}
        {platform?.access_mode !== 'open' && 'Add each board’s MAC address to the platform’s allowlist.'}
        {platform?.chip && ` Only the code for ${platform.chip} is shown: the platform accepts no other chip.`}
      </p>
      {platform && (
        <DeviceKeys
          platform={platform.name}
          keys={props.deviceKeys ?? []}
          chosen={props.device?.mac}
          canMint={props.canMintKeys === true}
        />
      )}
      {snippets.map((s) => (
        <SnippetBlock snippet={s} />
      ))}
    </Layout>
  );
}

/**
 * Devices with a key (their ESPHome manifest URL), one of which fills in the ESPHome code, and a form to mint a
 * key for a device (admins): clients that name no device in their requests are told apart by it.
 */
function DeviceKeys(props: { platform: string; keys: DeviceKey[]; chosen: string | undefined; canMint: boolean }) {
  const canMint = useCan('admin') && props.canMint;
  return (
    <section class="panel" aria-labelledby="device-keys-title">
      <h2 id="device-keys-title">Device keys (ESPHome)</h2>
      <p class="muted">
        ESPHome names no device when it asks for updates. A key minted for a board’s MAC gives it a manifest URL of its
        own, so the allowlist, its pin, rollout stages and the update window apply to it.
      </p>
      {props.keys.length > 0 && (
        <form method="get" action="/setup" class="row">
          <input type="hidden" name="platform" value={props.platform} />
          <label>
            Device
            <select name="device">
              {props.keys.map((k) => (
                <option value={k.mac} selected={k.mac === props.chosen}>
                  {k.mac}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            Show its code
          </button>
        </form>
      )}
      {canMint && (
        <form method="post" action="/setup/device-key" class="row">
          <CsrfField />
          <input type="hidden" name="platform" value={props.platform} />
          <label>
            MAC address
            <input name="mac" required placeholder="24:0A:C4:00:11:22" maxLength={32} />
          </label>
          <button type="submit">Mint a key</button>
        </form>
      )}
    </section>
  );
}

function SnippetBlock({ snippet }: { snippet: Snippet }) {
  const id = `snippet-${snippet.id}`;
  return (
    <section class="snippet" aria-labelledby={`${id}-title`}>
      <div class="snippet-head">
        <h2 id={`${id}-title`}>{snippet.title}</h2>
        <button type="button" class="secondary" data-copy={id} aria-label={`Copy the ${snippet.title} code`}>
          Copy
        </button>
      </div>
      {snippet.note && <p class="muted">{snippet.note}</p>}
      <pre>
        <code id={id}>{snippet.code}</code>
      </pre>
    </section>
  );
}
