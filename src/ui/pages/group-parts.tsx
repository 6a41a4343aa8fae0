import { roleAllows } from '../../features/auth/roles.js';
import type { DeviceGroupMembership, DevicePin } from '../../features/groups/device-pin-service.js';
import type { GroupSummary } from '../../features/groups/group-service.js';
import { CsrfField } from '../csrf-field.js';
import { useViewer } from '../session-context.js';

/** Groups and pins change what devices run, like a release: uploaders and admins see the forms, viewers do not. */
function useMaySteer(): boolean {
  const viewer = useViewer();
  return viewer !== undefined && roleAllows(viewer.role, 'uploader');
}

export interface DeviceSteeringProps {
  mac: string;
  platform: string;
  pins: DevicePin[];
  groups: DeviceGroupMembership[];
  /** The platform's app versions, newest first: what the device can be pinned to. */
  versions: string[];
  /** The platform's groups the device is not in yet. */
  otherGroups: string[];
}

/** The device page's "Groups and pin": where it is held, and the actions to pin, unpin and group it. */
export function DeviceSteering(props: DeviceSteeringProps) {
  const maySteer = useMaySteer();
  const base = `/devices/${props.mac}`;
  const own = props.pins.find((p) => p.group === null && p.platform === props.platform);
  const byGroup = props.pins.find((p) => p.group !== null && p.platform === props.platform);
  const groups = props.groups.filter((g) => g.platform === props.platform);
  return (
    <section aria-labelledby="steering">
      <h2 id="steering">Groups and pin</h2>
      <div class="panel">
        <p>
          {own ? (
            <>
              <span class="badge warn">pinned</span> Pinned to <strong>{own.version}</strong>: releases and rollouts do
              not move it.
            </>
          ) : byGroup ? (
            <>
              <span class="badge warn">pinned</span> Pinned to <strong>{byGroup.version}</strong> by its group{' '}
              <strong>{byGroup.group}</strong>.
            </>
          ) : (
            'Automatic: it follows the release and rollouts.'
          )}
        </p>
        {maySteer && own && (
          <form method="post" action={`${base}/unpin`} class="inline">
            <CsrfField />
            <input type="hidden" name="platform" value={props.platform} />
            <button type="submit" class="secondary">
              Unpin (back to automatic)
            </button>
          </form>
        )}
        {maySteer && props.versions.length > 0 && (
          <form method="post" action={`${base}/pin`} class="row">
            <CsrfField />
            <input type="hidden" name="platform" value={props.platform} />
            <label>
              Pin to version
              <select name="version">
                {props.versions.map((v) => (
                  <option value={v} selected={v === own?.version}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Pin</button>
          </form>
        )}
        {groups.length === 0 ? (
          <p class="muted">In no group.</p>
        ) : (
          <ul class="plain">
            {groups.map((g) => (
              <li class="row">
                <strong>{g.name}</strong> <GroupBadges excluded={g.excluded} pinnedVersion={g.pinnedVersion} />
                {maySteer && (
                  <form method="post" action={`${base}/groups/remove`} class="inline">
                    <CsrfField />
                    <input type="hidden" name="platform" value={props.platform} />
                    <input type="hidden" name="group" value={g.name} />
                    <button type="submit" class="secondary" aria-label={`Remove from ${g.name}`}>
                      Remove from group
                    </button>
                  </form>
                )}
              </li>
            ))}
          </ul>
        )}
        {maySteer && props.otherGroups.length > 0 && (
          <form method="post" action={`${base}/groups`} class="row">
            <CsrfField />
            <input type="hidden" name="platform" value={props.platform} />
            <label>
              Add to group
              <select name="group">
                {props.otherGroups.map((g) => (
                  <option value={g}>{g}</option>
                ))}
              </select>
            </label>
            <button type="submit" class="secondary">
              Add
            </button>
          </form>
        )}
      </div>
    </section>
  );
}

export function GroupBadges(props: { excluded: boolean; pinnedVersion: string | null }) {
  return (
    <>
      {props.excluded && <span class="badge">excluded</span>}{' '}
      {props.pinnedVersion && <span class="badge warn">pinned {props.pinnedVersion}</span>}
    </>
  );
}

/** What was typed into a refused group form: `group` names the group ('' for the new-group form). */
export interface GroupDraft {
  group: string;
  name?: string | undefined;
  macs?: string | undefined;
  label?: string | undefined;
}

/**
 * The platform page's groups: member counts, badges, and (for uploaders) the forms that change them. `draft` puts
 * back what a refused form held, with that group's forms unfolded.
 */
export function PlatformGroups(props: {
  platform: string;
  groups: GroupSummary[];
  versions: string[];
  draft?: GroupDraft | undefined;
}) {
  const draft = props.draft;
  const maySteer = useMaySteer();
  const base = `/platforms/${encodeURIComponent(props.platform)}/groups`;
  return (
    <section aria-labelledby="groups">
      <h2 id="groups">Device groups</h2>
      {props.groups.length === 0 ? (
        <p class="muted">No groups. A group can be a rollout's canary, be left out of rollouts, or be pinned.</p>
      ) : (
        <ul class="plain panel">
          {props.groups.map((g) => {
            const path = `${base}/${encodeURIComponent(g.name)}`;
            const typed =
              draft && draft.group !== '' && draft.group.toLowerCase() === g.name.toLowerCase() ? draft : undefined;
            return (
              <li>
                <strong>{g.name}</strong> <span class="muted">{g.members} devices</span>{' '}
                <GroupBadges excluded={g.excluded} pinnedVersion={g.pinnedVersion} />
                {maySteer && (
                  <details class="inline" open={typed !== undefined}>
                    <summary>change…</summary>
                    <form method="post" action={`${path}/settings`} class="row">
                      <CsrfField />
                      <label>
                        Rollouts
                        <select name="excluded">
                          <option value="no" selected={!g.excluded}>
                            move its devices
                          </option>
                          <option value="yes" selected={g.excluded}>
                            leave its devices out
                          </option>
                        </select>
                      </label>
                      <label>
                        Pinned to
                        <select name="pinnedVersion">
                          <option value="">not pinned</option>
                          {props.versions.map((v) => (
                            <option value={v} selected={v === g.pinnedVersion}>
                              {v}
                            </option>
                          ))}
                        </select>
                      </label>
                      <button type="submit">Save</button>
                    </form>
                    <form method="post" action={`${path}/members`} class="row">
                      <CsrfField />
                      <label>
                        Add MACs (paste several)
                        <textarea name="macs" rows={3} placeholder="5C:CF:7F:12:34:56" maxLength={200_000}>
                          {typed?.macs ?? ''}
                        </textarea>
                      </label>
                      <label>
                        or allowlisted devices labelled
                        <input name="label" maxLength={100} value={typed?.label ?? ''} />
                      </label>
                      <button type="submit" class="secondary">
                        Add devices
                      </button>
                    </form>
                    <form method="post" action={`${path}/delete`}>
                      <CsrfField />
                      <button type="submit" class="danger">
                        Delete group {g.name}
                      </button>
                    </form>
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {maySteer && (
        <form method="post" action={base} class="row panel">
          <CsrfField />
          <label>
            New group
            <input
              name="name"
              required
              maxLength={64}
              placeholder="lab"
              value={draft?.group === '' ? (draft.name ?? '') : ''}
            />
          </label>
          <button type="submit">Create group</button>
        </form>
      )}
    </section>
  );
}
