import { PlatformSelect } from '../platform-select.js';
import { CsrfField } from '../csrf-field.js';
import { useViewer } from '../session-context.js';
import type { PlatformView } from '../../features/views.js';
import { Layout } from '../layout.js';
import { ReleaseConfirm, type VersionCounts } from '../release-confirm.js';
import type { ImageSignature } from '../../features/signing/image-signature.js';
import { SignatureState } from '../signature-state.js';

export interface UploadOutcome {
  ok: boolean;
  message: string;
  candidates?: string[] | undefined;
  /** For a kept upload: why it was not released, the evidence, and the release with its confirmation. */
  release?: UploadRelease | undefined;
  /** The upload's signature against the platform's keys (issue 17). */
  signature?: ImageSignature | undefined;
}

export interface UploadRelease {
  released: boolean;
  code: string;
  reason: string;
  platform: string;
  image: { id: number; version: string };
  /** Where the version came from, in words. */
  evidence: string;
  conflicts: string[];
  versions: VersionCounts;
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
          <label class="row" title="the version typed is an opaque label, not a version number">
            <input type="checkbox" name="label" value="true" /> version is a label
          </label>
          <label class="row" title="keep the image although its app descriptor names another project">
            <input type="checkbox" name="force" value="true" /> other project: upload anyway
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
          {outcome.signature && (
            <div>
              Signature: <SignatureState signature={outcome.signature} />
              {outcome.signature.problems.map((problem) => (
                <div class="muted">Warning: {problem}</div>
              ))}
            </div>
          )}
          {outcome.release && <ReleaseOutcome release={outcome.release} />}
        </div>
      )}
      <ul id="uploads" class="plain" aria-live="polite"></ul>
    </Layout>
  );
}

/** Why an upload was kept, with the evidence beside the release button (and its "N devices will move"). */
function ReleaseOutcome({ release }: { release: UploadRelease }) {
  return (
    <div class="release-outcome" data-release-code={release.code}>
      <div>
        {release.released ? 'Released: ' : 'Not released: '}
        {release.reason} <span class="muted">({release.code})</span>
      </div>
      <div class="muted">Version from: {release.evidence}</div>
      {release.conflicts.map((conflict) => (
        <div class="muted">Warning: {conflict}</div>
      ))}
      {!release.released && (
        <ReleaseConfirm
          base={`/platforms/${encodeURIComponent(release.platform)}`}
          image={release.image}
          versions={release.versions}
          label="Release"
          open
        />
      )}
    </div>
  );
}
