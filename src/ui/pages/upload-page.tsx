import { PlatformSelect } from '../platform-select.js';
import { CsrfField } from '../csrf-field.js';
import { useViewer } from '../session-context.js';
import type { PlatformView } from '../../features/views.js';
import { Layout } from '../layout.js';

export interface UploadOutcome {
  ok: boolean;
  message: string;
  candidates?: string[] | undefined;
}

/**
 * Works without JavaScript (the form posts the file; the answer is rendered below it); app.js adds drag and drop
 * anywhere on the page, a progress bar per file, and the analyser's answer in place.
 */
export function UploadPage(props: {
  platforms: PlatformView[];
  selected?: string | undefined;
  outcome?: UploadOutcome | undefined;
  csrf?: string | undefined;
}) {
  const { outcome } = props;
  const viewer = useViewer();
  return (
    <Layout title="Upload firmware" path="/upload">
      <div class="dropzone" data-upload>
        <p>
          <strong>Drop .bin files anywhere on this page</strong>, or pick them. The server reads the chip, platform and
          version from each image; it asks when it cannot be sure.
        </p>
        {/* Multipart bodies are read after the access check, so the CSRF token travels in the URL here. */}
        <form
          method="post"
          action={viewer?.csrf ? `/upload?_csrf=${encodeURIComponent(viewer.csrf)}` : '/upload'}
          enctype="multipart/form-data"
          class="row centered"
        >
          <CsrfField />
          <label>
            Firmware file(s)
            <input type="file" name="file" accept=".bin,.gz,application/octet-stream" multiple required />
          </label>
          <PlatformSelect
            names={props.platforms.map((p) => p.name)}
            selected={props.selected}
            emptyLabel="read from the image"
          />
          <label>
            Version
            <input name="version" placeholder="read from the image" maxLength={64} list="version-candidates" />
          </label>
          {outcome?.candidates && (
            <datalist id="version-candidates">
              {outcome.candidates.map((c) => (
                <option value={c} />
              ))}
            </datalist>
          )}
          <label class="row">
            <input type="checkbox" name="release" value="true" /> release now
          </label>
          <button type="submit">Upload</button>
        </form>
      </div>
      {outcome && (
        <div class={`message ${outcome.ok ? 'success' : 'error'}`} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.message}
          {outcome.candidates && outcome.candidates.length > 0 && (
            <div>Candidates: {outcome.candidates.join(', ')} — pick one in the Version field and upload again.</div>
          )}
        </div>
      )}
      <ul id="uploads" class="plain" aria-live="polite"></ul>
    </Layout>
  );
}
