import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../../http/auth.js';
import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import type { DeviceSteeringProps } from '../pages/group-parts.js';
import { DevicePage } from '../pages/devices-page.js';
import { PlatformPage } from '../pages/platform-page.js';
import { sendPage } from '../render.js';
import { appVersions, platformPageProps } from './platform-page-props.js';
import { pageAccess, redirect, type Form, type UiServices } from './route-helpers.js';

/** What the device page shows of its groups and pin, on the platform it last checked in with. */
export async function deviceSteeringProps(ui: UiServices, mac: string, platform: string): Promise<DeviceSteeringProps> {
  const [held, groups, versions] = await Promise.all([
    ui.pins.of(mac),
    ui.groups.list(platform).catch(() => []),
    appVersions(ui, platform).catch(() => []),
  ]);
  const member = new Set(held.groups.filter((g) => g.platform === platform).map((g) => g.name));
  return {
    mac,
    platform,
    ...held,
    versions,
    otherGroups: groups.map((g) => g.name).filter((name) => !member.has(name)),
  };
}

/** MACs pasted in a text area: one per line, or separated by spaces, commas or semicolons. */
function pastedMacs(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,;]+/).filter((word) => word !== '');
}

/** The forms of groups (on the platform page) and of a device's pin and groups (on the device page). */
export function registerGroupUiRoutes(app: FastifyInstance, ui: UiServices): void {
  const platformAction = (
    path: string,
    change: (name: string, group: string, form: Form, actor: string) => Promise<string>,
  ) =>
    app.post(path, pageAccess('uploader'), async (request, reply) => {
      const { name, group } = request.params as { name: string; group?: string };
      try {
        const notice = await change(name, group ?? '', (request.body ?? {}) as Form, actorOf(request));
        return redirect(reply, `/platforms/${encodeURIComponent(name)}`, notice);
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === 'unknown-platform') throw error;
        const page = await platformPageProps(ui, name);
        const form = (request.body ?? {}) as Form;
        const draft = { group: group ?? '', name: form.name, macs: form.macs, label: form.label };
        return sendPage(
          request,
          reply,
          <PlatformPage {...page} error={error.message} groupDraft={draft} />,
          error.status,
        );
      }
    });

  platformAction('/platforms/:name/groups', async (name, _group, form, actor) => {
    const created = await ui.groups.create(name, { name: form.name ?? '' }, actor);
    return `Group ${created.name} was created.`;
  });
  platformAction('/platforms/:name/groups/:group/settings', async (name, group, form, actor) => {
    const changed = await ui.groups.update(
      name,
      group,
      { excluded: form.excluded === 'yes', pinnedVersion: form.pinnedVersion ? form.pinnedVersion : null },
      actor,
    );
    const pin = changed.pinnedVersion ? `pinned to ${changed.pinnedVersion}` : 'not pinned';
    return `Group ${changed.name}: ${changed.excluded ? 'left out of' : 'moved by'} rollouts, ${pin}.`;
  });
  platformAction('/platforms/:name/groups/:group/members', async (name, group, form, actor) => {
    const macs = pastedMacs(form.macs);
    const label = form.label?.trim() || undefined;
    if (macs.length === 0 && !label) throw new DomainError('bad-request', 'paste MACs or give an allowlist label');
    const changed = await ui.groups.addMembers(name, group, { macs, allowlistLabel: label }, actor);
    return `Group ${changed.name} now has ${changed.members} devices.`;
  });
  platformAction('/platforms/:name/groups/:group/delete', async (name, group, _form, actor) => {
    await ui.groups.delete(name, group, actor);
    return `Group ${group} was deleted.`;
  });

  const deviceAction = (path: string, change: (mac: string, form: Form, actor: string) => Promise<string>) =>
    app.post(path, pageAccess('uploader'), async (request, reply) => {
      const macText = (request.params as { mac: string }).mac;
      const mac = normalizeMac(macText);
      if (!mac) throw new DomainError('invalid-mac', `"${macText}" is not a MAC address`);
      try {
        const notice = await change(mac, (request.body ?? {}) as Form, actorOf(request));
        return redirect(reply, `/devices/${mac}`, notice);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return renderDevicePage(request, reply, mac, { error: error.message }, error.status);
      }
    });

  deviceAction('/devices/:mac/pin', async (mac, form, actor) => {
    const pin = await ui.pins.pin(mac, form.version ?? '', actor, form.platform || undefined);
    return `Pinned to ${pin.version}.`;
  });
  deviceAction('/devices/:mac/unpin', async (mac, form, actor) => {
    await ui.pins.unpin(mac, actor, form.platform || undefined);
    return 'Unpinned: the device follows the release and rollouts again.';
  });
  deviceAction('/devices/:mac/groups', async (mac, form, actor) => {
    const group = await ui.groups.addMembers(form.platform ?? '', form.group ?? '', { macs: [mac] }, actor);
    return `Added to group ${group.name}.`;
  });
  deviceAction('/devices/:mac/groups/remove', async (mac, form, actor) => {
    const group = await ui.groups.removeMembers(form.platform ?? '', form.group ?? '', [mac], actor);
    return `Removed from group ${group.name}.`;
  });

  /** The device page, with its groups and pin, and the outcome of a form. */
  async function renderDevicePage(
    request: FastifyRequest,
    reply: FastifyReply,
    macText: string,
    outcome: { error: string },
    status: number,
  ) {
    const { device, label, events } = await ui.reader.device(macText);
    const steering = await deviceSteeringProps(ui, device.mac, device.platform_name);
    return sendPage(
      request,
      reply,
      <DevicePage device={device} label={label} events={events} now={ui.now()} steering={steering} {...outcome} />,
      status,
    );
  }
}
