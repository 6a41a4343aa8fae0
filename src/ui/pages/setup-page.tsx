import { PlatformSelect } from '../platform-select.js';
import type { PlatformView } from '../../features/views.js';
import { Layout } from '../layout.js';
import { boardSnippets, type Snippet } from '../board-snippets.js';

export interface SetupView {
  platforms: PlatformView[];
  /** The platform asked for (may not exist yet: its code can be written before it is created). */
  selected: string;
  serverUrl: string;
  /** Why boards could not reach `serverUrl`, when they could not (localhost, a loopback address). */
  unreachable?: string | undefined;
}

/** Ready-to-paste device code with this server's URL, the platform's name and its device login filled in. */
export function SetupPage(props: SetupView) {
  const name = props.selected || 'MyPlatform';
  const platform = props.platforms.find((p) => p.name === props.selected);
  const snippets = boardSnippets({ serverUrl: props.serverUrl, name, platform });
  return (
    <Layout title="Connect a board" path="/setup">
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
      {snippets.map((s) => (
        <SnippetBlock snippet={s} />
      ))}
    </Layout>
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
