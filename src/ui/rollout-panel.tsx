import type { RolloutDeviceCounts, RolloutDeviceState } from '../features/fleet/rollout-membership.js';
import type { FailingDevice, RolloutSummary } from '../features/rollouts/rollout-overview.js';
import { formatMac } from '../lib/mac.js';
import { CsrfField } from './csrf-field.js';
import { Ago } from './view-helpers.js';

export interface RolloutPanelProps {
  /** The platform page's path; the buttons post to `<base>/rollout/<action>`. */
  base: string;
  rollout: RolloutSummary | undefined;
  devices: RolloutDeviceCounts | undefined;
  failing: FailingDevice[];
  /** Whether the viewer may start, pause, resume, advance, abort or roll back. */
  canSteer: boolean;
  /** Kept app versions a new rollout may move devices to (offered when none is running). */
  candidates: string[];
  now: number;
}

/** The states drawn in the bar, in the order a device moves through them, with their colours and words. */
const BAR: { state: RolloutDeviceState; colour: string; label: string }[] = [
  { state: 'updated', colour: '#2a9d5b', label: 'updated' },
  { state: 'offered', colour: '#2f6fdf', label: 'offered' },
  { state: 'admitted', colour: '#8fb3f0', label: 'waiting to check' },
  { state: 'failed', colour: '#c0392b', label: 'failed' },
  { state: 'silent', colour: '#7b241c', label: 'silent' },
  { state: 'pending', colour: '#d5d8dc', label: 'later stage' },
  { state: 'excluded', colour: '#95a5a6', label: 'excluded' },
  { state: 'pinned', colour: '#9b59b6', label: 'pinned' },
];

/** Where the rollout stands, in words: "stage 2 of 4 (10 %)". */
export function stageText(rollout: RolloutSummary): string {
  const count = rollout.stages.length + (rollout.hasCanary ? 1 : 0);
  const percentIndex = rollout.stageIndex - (rollout.hasCanary ? 1 : 0);
  const what = percentIndex < 0 ? 'the canary' : `${rollout.stages[percentIndex]} %`;
  return `stage ${rollout.stageIndex + 1} of ${count} (${what})`;
}

/**
 * The rollout as a person wants to see it on the platform page: what moves from what to what, the stage, devices by
 * state as counts and a bar, the failing devices with their reason, and the buttons for what can be done now.
 */
export function RolloutPanel(props: RolloutPanelProps) {
  const { rollout, devices, base } = props;
  const active = rollout?.state === 'running' || rollout?.state === 'paused';
  const start = props.canSteer && !active && props.candidates.length > 0 && <StartForm {...props} />;
  if (!rollout)
    return (
      <>
        <p class="muted">No rollout yet.</p>
        {start}
      </>
    );
  const total = devices ? BAR.reduce((sum, b) => sum + devices[b.state], 0) : 0;
  let x = 0;
  return (
    <div class={`rollout rollout-${rollout.state}`}>
      <p>
        <strong>
          {rollout.previousVersion ?? 'nothing'} → {rollout.targetVersion}
        </strong>{' '}
        <span class={`badge ${rollout.state === 'paused' || rollout.state === 'aborted' ? 'warn' : 'ok'}`}>
          {rollout.state}
        </span>{' '}
        {active && (
          <>
            {stageText(rollout)}, since <Ago at={rollout.stageStartedAt} now={props.now} />
          </>
        )}{' '}
        <span class="muted">started by {rollout.createdBy}</span>
      </p>
      {rollout.state === 'paused' && rollout.pauseReason && <p class="message error">Paused: {rollout.pauseReason}</p>}
      {devices && total > 0 && (
        <figure class="rollout-bar">
          <svg viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="Devices by rollout state">
            {BAR.filter((b) => devices[b.state] > 0).map((b) => {
              const width = (devices[b.state] / total) * 100;
              const rect = (
                <rect x={x.toFixed(3)} y="0" width={width.toFixed(3)} height="6" fill={b.colour}>
                  <title>{`${b.label}: ${devices[b.state]}`}</title>
                </rect>
              );
              x += width;
              return rect;
            })}
          </svg>
          <figcaption>
            {BAR.map((b) => (
              <span class="legend" data-state={b.state}>
                <svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
                  <rect width="10" height="10" fill={b.colour} />
                </svg>{' '}
                {b.label} <strong>{devices[b.state]}</strong>
              </span>
            ))}
          </figcaption>
        </figure>
      )}
      {props.failing.length > 0 && (
        <details open={rollout.state === 'paused'}>
          <summary>{props.failing.length} devices did not update</summary>
          <ul class="plain">
            {props.failing.map((d) => (
              <li>
                <a href={`/devices/${d.mac}`}>{formatMac(d.mac)}</a> <span class="badge bad">{d.state}</span> {d.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {props.canSteer && active && (
        <div class="actions">
          {rollout.state === 'running' && <Action base={base} action="pause" label="Pause" />}
          {rollout.state === 'paused' && <Action base={base} action="resume" label="Resume" />}
          {rollout.state === 'running' && <Action base={base} action="advance" label="Next stage" />}
          <Action base={base} action="abort" label="Abort" confirm="Stop the rollout? Devices that updated keep it." />
        </div>
      )}
      {start}
      {props.canSteer && rollout.state !== 'completed' && rollout.previousVersion && (
        <div class="actions">
          <Action
            base={base}
            action="rollback"
            label={`Roll back to ${rollout.previousVersion}`}
            confirm={`Offer ${rollout.previousVersion} to every device, including those that updated?`}
          />
        </div>
      )}
    </div>
  );
}

function Action(props: { base: string; action: string; label: string; confirm?: string }) {
  return (
    <form method="post" action={`${props.base}/rollout/${props.action}`} data-confirm={props.confirm}>
      <CsrfField />
      <button type="submit">{props.label}</button>
    </form>
  );
}

/** Starts a staged rollout of a kept version: the stages as percentages, and optional canary devices. */
function StartForm(props: RolloutPanelProps) {
  return (
    <form method="post" action={`${props.base}/rollout/start`} class="row">
      <CsrfField />
      <label>
        Roll out{' '}
        <select name="version">
          {props.candidates.map((v) => (
            <option value={v}>{v}</option>
          ))}
        </select>
      </label>{' '}
      <label>
        in stages (%) <input name="stages" value="1,10,50,100" size={12} pattern="[0-9., ]+" />
      </label>{' '}
      <label>
        canary MACs <input name="canary" placeholder="optional, comma-separated" size={24} />
      </label>{' '}
      <button type="submit">Start rollout</button>
    </form>
  );
}
