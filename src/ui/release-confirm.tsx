import { sameVersion } from '../lib/version.js';
import { CsrfField } from './csrf-field.js';

/** Devices of a platform by the version they run (null: not known), as the fleet registry counts them. */
export type VersionCounts = readonly (readonly [string | null, number])[];

/**
 * "N devices will move from X to Y": the devices on the platform that run something other than the target, by
 * version, most first. Devices whose version is not known count as moving (they will be offered the image).
 */
export function moveSentence(versions: VersionCounts, target: string): string {
  const moving = versions
    .filter(([version, count]) => count > 0 && (version === null || !sameVersion(version, target)))
    .sort((a, b) => b[1] - a[1]);
  const total = moving.reduce((n, [, count]) => n + count, 0);
  if (total === 0) return `No known device runs another version: nothing moves to ${target} now.`;
  const name = (version: string | null) => version ?? 'an unknown version';
  const from =
    moving.length === 1
      ? name(moving[0]![0])
      : moving
          .slice(0, 5)
          .map(([version, count]) => `${name(version)} (${count})`)
          .join(', ') + (moving.length > 5 ? ` and ${moving.length - 5} more versions` : '');
  return `${total} ${total === 1 ? 'device' : 'devices'} will move from ${from} to ${target}.`;
}

/**
 * The release button behind a confirmation that says who moves: opening it shows the count, the button in it
 * releases. `open` unfolds it (after an upload that was kept, the person came to decide).
 */
export function ReleaseConfirm(props: {
  base: string;
  image: { id: number; version: string };
  versions: VersionCounts;
  label: string;
  open?: boolean | undefined;
  /** The image is signed by other keys than the deployed one: the form asks for the confirmation (issue 17). */
  keyChange?: boolean | undefined;
}) {
  const { image } = props;
  return (
    <details class="inline release-confirm" id={`release-${image.id}`} open={props.open || props.keyChange}>
      <summary>{props.label}…</summary>
      <p>{moveSentence(props.versions, image.version)}</p>
      <form method="post" action={`${props.base}/images/${image.id}/release`}>
        <CsrfField />
        {props.keyChange && (
          <label>
            <input type="checkbox" name="confirmKeyChange" value="true" required /> The boards trust the new key
            (docs/security.md "Key rotation"): release it anyway
          </label>
        )}
        <button type="submit">Release {image.version} now</button>
      </form>
    </details>
  );
}
