import { formatMac, normalizeMac } from '../../lib/mac.js';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../features/auth/roles.js';
import { DomainError } from '../../lib/domain-error.js';
import { PlatformPage } from '../pages/platform-page.js';
import { sendPage } from '../render.js';
import { platformPageProps } from './platform-page-props.js';
import { pageAccess, queryOf, redirect, type Form, type UiServices } from './route-helpers.js';
import { actorOf } from '../../http/auth.js';
import { stageInstallFiles } from '../../features/install/install-routes.js';
import type { ReleaseSettings } from '../../features/platforms/release-settings.js';
import type { RolloutPlanInput } from '../../features/rollouts/rollout-policy.js';

/** A platform's page and its forms: release or delete an image, the allowlist, the settings. */
export function registerPlatformRoutes(app: FastifyInstance, ui: UiServices): void {
  const platformPage = (name: string) => platformPageProps(ui, name);
  const installService = () => {
    if (!ui.install) throw new DomainError('bad-request', 'install assets are not available on this server');
    return ui.install;
  };

  app.get('/platforms/:name', pageAccess('viewer'), async (request, reply) => {
    const name = (request.params as { name: string }).name;
    const query = queryOf(request);
    const openRelease = query.release !== undefined ? Number(query.release) : undefined;
    return sendPage(
      request,
      reply,
      <PlatformPage
        {...await platformPage(name)}
        notice={query.notice}
        openRelease={openRelease}
        allowMac={allowMacOf(query.allow)}
      />,
    );
  });

  /** Runs a change on a platform, then shows the platform page with its outcome. */
  const platformAction = (
    path: string,
    access: Role,
    change: (name: string, params: Record<string, string>, form: Form, actor: string) => Promise<string>,
  ) =>
    app.post(path, pageAccess(access), async (request, reply) => {
      const params = request.params as Record<string, string>;
      const name = params.name!;
      try {
        const notice = await change(name, params, (request.body ?? {}) as Form, actorOf(request));
        return redirect(reply, `/platforms/${encodeURIComponent(name)}`, notice);
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === 'unknown-platform') throw error;
        const keyChangeImage = error.code === 'key-change-unconfirmed' ? Number(params.id) : undefined;
        return sendPage(
          request,
          reply,
          <PlatformPage {...await platformPage(name)} error={error.message} keyChangeImage={keyChangeImage} />,
          error.status,
        );
      }
    });
  platformAction('/platforms/:name/images/:id/release', 'uploader', async (_name, params, form, actor) => {
    const image = await ui.firmware.get(Number(params.id));
    await ui.firmware.release(image.id, actor, { confirmKeyChange: form.confirmKeyChange === 'true' });
    return `Version ${image.version} is released.`;
  });
  platformAction('/platforms/:name/images/:id/delete', 'admin', async (_name, params, _form, actor) => {
    const image = await ui.firmware.get(Number(params.id));
    await ui.firmware.delete(image.id, actor);
    return `Version ${image.version} was deleted.`;
  });
  platformAction('/platforms/:name/images/:id/install-asset/remove', 'admin', async (_name, params, _form, actor) => {
    const image = await ui.firmware.get(Number(params.id));
    await installService().remove(image.id, actor);
    return `The install files of ${image.version} were removed.`;
  });
  // A multipart form (factory image, or the three parts): read here, not by platformAction's form parser.
  app.post('/platforms/:name/images/:id/install-asset', pageAccess('uploader'), async (request, reply) => {
    const { name, id } = request.params as { name: string; id: string };
    try {
      const image = await ui.firmware.get(Number(id));
      const files = await stageInstallFiles(request, installService());
      await installService().add(image.id, files, actorOf(request));
      return redirect(
        reply,
        `/platforms/${encodeURIComponent(name)}`,
        `Version ${image.version} can be installed from the browser.`,
      );
    } catch (error) {
      if (!request.raw.complete) reply.header('connection', 'close');
      if (!(error instanceof DomainError)) throw error;
      return sendPage(
        request,
        reply,
        <PlatformPage {...await platformPage(name)} error={error.message} />,
        error.status,
      );
    }
  });
  platformAction('/platforms/:name/allowlist', 'admin', async (name, _params, form, actor) => {
    const entry = await ui.platforms.allow(name, form.mac ?? '', form.label, actor);
    return `Device ${entry.mac} may update.`;
  });
  platformAction('/platforms/:name/allowlist/:mac/remove', 'admin', async (name, params, _form, actor) => {
    await ui.platforms.disallow(name, params.mac!, actor);
    return `Device ${params.mac} was removed.`;
  });
  platformAction('/platforms/:name/settings', 'admin', async (name, _params, form, actor) => {
    const accessMode = form.accessMode === 'open' ? 'open' : 'allowlist';
    const deviceAuth = form.deviceAuth === 'basic' || form.deviceAuth === 'token' ? form.deviceAuth : 'off';
    const secret = form.deviceSecret ? { deviceSecret: form.deviceSecret } : {};
    await ui.platforms.update(
      name,
      {
        accessMode,
        chip: form.chip || null,
        deviceAuth,
        deviceUser: form.deviceUser || null,
        ...secret,
        ...releaseSettingsFromForm(form),
      },
      actor,
    );
    return 'Settings saved.';
  });
  platformAction('/platforms/:name/rollout/start', 'uploader', async (name, _params, form, actor) => {
    const numbers = (text: string | undefined) =>
      text?.trim()
        ? text
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(Number)
        : undefined;
    const macs = form.canary?.split(/[\s,]+/).filter(Boolean);
    const rollout = await ui.rollouts.start(
      name,
      { version: form.version, stages: numbers(form.stages), ...(macs?.length ? { canary: { macs } } : {}) },
      actor,
    );
    return `The rollout of ${rollout.target_version} has started.`;
  });
  platformAction('/platforms/:name/rollout/:action', 'uploader', async (name, params, _form, actor) => {
    const action = params.action;
    if (action === 'pause') await ui.rollouts.pause(name, undefined, actor);
    else if (action === 'resume') await ui.rollouts.resume(name, actor);
    else if (action === 'advance') await ui.rollouts.advance(name, actor);
    else if (action === 'abort') await ui.rollouts.abort(name, actor);
    else if (action === 'rollback') await ui.rollouts.rollback(name, actor);
    else throw new DomainError('bad-request', 'there is no such rollout action');
    return ROLLOUT_DONE[action]!;
  });
}

const ROLLOUT_DONE: Record<string, string> = {
  pause: 'The rollout is paused: no new device gets the image.',
  resume: 'The rollout runs again.',
  advance: 'The rollout moved to its next stage.',
  abort: 'The rollout was aborted; devices that updated keep the new image.',
  rollback: 'The rollout was rolled back: every device is offered the previous image.',
};

/** The settings form's release fields; a field left out of the form (an older page) changes nothing. */
function releaseSettingsFromForm(form: Form): ReleaseSettings {
  const settings: ReleaseSettings = {};
  if (form.releasePolicy !== undefined) settings.releasePolicy = form.releasePolicy as ReleaseSettings['releasePolicy'];
  if (form.rolloutTemplate !== undefined) {
    const text = form.rolloutTemplate.trim();
    if (!text) settings.rolloutTemplate = null;
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new DomainError('bad-request', 'the rollout template is JSON, e.g. {"stages":[1,10,50,100]}');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new DomainError('bad-request', 'the rollout template is a JSON object, e.g. {"stages":[1,10,50,100]}');
      settings.rolloutTemplate = parsed as RolloutPlanInput;
    }
  }
  if (form.windowFrom !== undefined || form.windowTo !== undefined) {
    const [from, to] = [form.windowFrom?.trim() ?? '', form.windowTo?.trim() ?? ''];
    settings.updateWindow = !from && !to ? null : { from, to, timeZone: form.windowTimeZone?.trim() || 'UTC' };
  }
  return settings;
}

/** The dashboard's "allow this device" names a MAC; anything that is not one is ignored, never echoed. */
function allowMacOf(text: string | undefined): string | undefined {
  const mac = text === undefined ? undefined : normalizeMac(text);
  return mac ? formatMac(mac) : undefined;
}
