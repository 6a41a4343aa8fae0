import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalogue } from '../db/stores.js';
import type { Role } from '../db/tables.js';
import type { FirmwareService } from '../features/firmware/firmware-service.js';
import type { PlatformService } from '../features/platforms/platform-service.js';
import { DomainError } from '../lib/domain-error.js';
import { readUploadPart } from '../http/multipart-upload.js';
import { normalizeMac } from '../lib/mac.js';
import { isRowId } from '../lib/row-id.js';
import { DashboardPage, type PlatformSummary } from './pages/dashboard-page.js';
import { DEVICE_SORTS, DevicePage, DevicesPage, sortDevices, type DeviceSort } from './pages/devices-page.js';
import { EventList, EventsPage } from './pages/events-page.js';
import { PlatformPage } from './pages/platform-page.js';
import { SetupPage } from './pages/setup-page.js';
import { UploadPage, type UploadOutcome } from './pages/upload-page.js';
import { sendPage } from './render.js';
import { render } from 'preact-render-to-string';

export interface UiServices {
  catalogue: Catalogue;
  platforms: PlatformService;
  firmware: FirmwareService;
  now: () => number;
}

type Form = Record<string, string | undefined>;
const DEVICE_PAGE_LIMIT = 2000;

/** Server-rendered pages over the same services as the REST API. Forms post here and redirect back (POST → GET). */
export function registerUiRoutes(app: FastifyInstance, ui: UiServices): void {
  const { stores } = ui.catalogue;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  // Each page and form says who may use it (see http/auth.ts); none is hidden from the check.
  const as = (access: Role) => ({ schema: { hide: true }, config: { access } });
  const view = as('viewer');
  const query = (request: FastifyRequest) => request.query as Record<string, string | undefined>;

  app.get('/', view, async (request, reply) =>
    sendPage(request, reply, <DashboardPage {...await dashboard(ui)} notice={query(request).notice} />),
  );
  app.get('/fragments/latest-events', view, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(render(<EventList events={await stores.events.list({ limit: 15 })} now={ui.now()} />)),
  );

  app.post('/platforms', as('admin'), async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    try {
      const platform = await ui.platforms.create({ name: form.name ?? '', chip: form.chip || null }, 'ui');
      return redirect(reply, `/platforms/${encodeURIComponent(platform.name)}`, `Platform ${platform.name} created.`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendPage(request, reply, <DashboardPage {...await dashboard(ui)} error={error.message} />, error.status);
    }
  });

  app.get('/platforms/:name', view, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    return sendPage(request, reply, <PlatformPage {...await platformPage(ui, name)} notice={query(request).notice} />);
  });

  /** Runs a change on a platform, then shows the platform page with its outcome. */
  const platformAction = (
    path: string,
    access: Role,
    change: (name: string, params: Record<string, string>, form: Form) => Promise<string>,
  ) =>
    app.post(path, as(access), async (request, reply) => {
      const params = request.params as Record<string, string>;
      const name = params.name!;
      try {
        const notice = await change(name, params, (request.body ?? {}) as Form);
        return redirect(reply, `/platforms/${encodeURIComponent(name)}`, notice);
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === 'unknown-platform') throw error;
        return sendPage(
          request,
          reply,
          <PlatformPage {...await platformPage(ui, name)} error={error.message} />,
          error.status,
        );
      }
    });
  platformAction('/platforms/:name/images/:id/release', 'uploader', async (_name, params) => {
    const image = await ui.firmware.get(Number(params.id));
    await ui.firmware.release(image.id, 'ui');
    return `Version ${image.version} is released.`;
  });
  platformAction('/platforms/:name/images/:id/delete', 'admin', async (_name, params) => {
    const image = await ui.firmware.get(Number(params.id));
    await ui.firmware.delete(image.id, 'ui');
    return `Version ${image.version} was deleted.`;
  });
  platformAction('/platforms/:name/allowlist', 'admin', async (name, _params, form) => {
    const entry = await ui.platforms.allow(name, form.mac ?? '', form.label, 'ui');
    return `Device ${entry.mac} may update.`;
  });
  platformAction('/platforms/:name/allowlist/:mac/remove', 'admin', async (name, params) => {
    await ui.platforms.disallow(name, params.mac!, 'ui');
    return `Device ${params.mac} was removed.`;
  });
  platformAction('/platforms/:name/settings', 'admin', async (name, _params, form) => {
    const accessMode = form.accessMode === 'open' ? 'open' : 'allowlist';
    const deviceAuth = form.deviceAuth === 'basic' || form.deviceAuth === 'token' ? form.deviceAuth : 'off';
    const secret = form.deviceSecret ? { deviceSecret: form.deviceSecret } : {};
    await ui.platforms.update(
      name,
      { accessMode, chip: form.chip || null, deviceAuth, deviceUser: form.deviceUser || null, ...secret },
      'ui',
    );
    return 'Settings saved.';
  });

  app.get('/upload', view, async (request, reply) =>
    sendPage(request, reply, <UploadPage platforms={await ui.platforms.list()} selected={query(request).platform} />),
  );
  // The page's plain form (no JavaScript): multipart with the file and optional platform, version, release.
  app.post('/upload', as('uploader'), async (request, reply) => {
    const platforms = await ui.platforms.list();
    let outcome: UploadOutcome;
    let status = 201;
    try {
      const part = await readUploadPart(request);
      if (!part) throw new DomainError('bad-request', 'choose a file to upload');
      const field = part.field;
      const result = await ui.firmware.upload(part.file, {
        platform: field('platform'),
        version: field('version'),
        release: field('release') === 'true',
        filename: part.filename,
        actor: 'ui',
      });
      outcome = {
        ok: true,
        message: `${result.platform.name} ${result.image.version} uploaded${result.released ? ' and released' : ''}.`,
      };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      status = error.status;
      const details = error.details as { identity?: { version?: { candidates?: { value: string }[] } } } | undefined;
      outcome = {
        ok: false,
        message: error.message,
        candidates: details?.identity?.version?.candidates?.map((c) => c.value),
      };
    }
    return sendPage(request, reply, <UploadPage platforms={platforms} outcome={outcome} />, status);
  });

  app.get('/devices', view, async (request, reply) => {
    const q = (query(request).q ?? '').trim();
    const sort = (DEVICE_SORTS as readonly string[]).includes(query(request).sort ?? '')
      ? (query(request).sort as DeviceSort)
      : 'seen';
    const descending = (query(request).dir ?? (sort === 'seen' ? 'desc' : 'asc')) === 'desc';
    const labels = new Map((await stores.allowlist.listAll()).filter((a) => a.label).map((a) => [a.mac, a.label!]));
    const needle = q.toLowerCase();
    const macNeedle = normalizeMac(q) ?? needle.replace(/[:\-.]/g, '');
    const devices = (await stores.devices.list({ limit: DEVICE_PAGE_LIMIT })).filter(
      (d) =>
        !needle ||
        d.mac.includes(macNeedle) ||
        [d.platform_name, d.reported_version, d.ip, labels.get(d.mac)].some((v) => v?.toLowerCase().includes(needle)),
    );
    return sendPage(
      request,
      reply,
      <DevicesPage
        devices={sortDevices(devices, sort, descending)}
        labels={labels}
        q={q}
        sort={sort}
        descending={descending}
        now={ui.now()}
      />,
    );
  });

  app.get('/devices/:mac', view, async (request, reply) => {
    const mac = normalizeMac((request.params as { mac: string }).mac);
    const device = mac ? await stores.devices.findByMac(mac) : undefined;
    if (!mac || !device) throw new DomainError('unknown-device', 'this device has never checked in');
    const label = (await stores.allowlist.listAll()).find((a) => a.mac === mac && a.label)?.label ?? undefined;
    return sendPage(
      request,
      reply,
      <DevicePage
        device={device}
        label={label}
        events={await stores.events.list({ mac, limit: 100 })}
        now={ui.now()}
      />,
    );
  });

  app.get('/events', view, async (request, reply) => {
    const q = query(request);
    const mac = q.mac ? (normalizeMac(q.mac) ?? q.mac.toLowerCase()) : undefined;
    const limit = 50;
    const before = isRowId(Number(q.before)) ? Number(q.before) : undefined;
    const events = await stores.events.list({
      platform: q.platform || undefined,
      mac,
      decision: q.decision || undefined,
      beforeId: before,
      limit,
    });
    const platforms = (await ui.platforms.list()).map((p) => p.name);
    const filter = { platform: q.platform || undefined, mac: q.mac || undefined, decision: q.decision || undefined };
    return sendPage(
      request,
      reply,
      <EventsPage
        events={events}
        filter={filter}
        next={events.length === limit ? events[events.length - 1]!.id : null}
        platforms={platforms}
        now={ui.now()}
      />,
    );
  });

  app.get('/setup', view, async (request, reply) => {
    const platforms = await ui.platforms.list();
    const selected = query(request).platform ?? platforms[0]?.name ?? '';
    const serverUrl = `${request.protocol}://${request.host}`;
    return sendPage(request, reply, <SetupPage platforms={platforms} selected={selected} serverUrl={serverUrl} />);
  });
}

function redirect(reply: FastifyReply, to: string, notice: string): FastifyReply {
  return reply
    .code(303)
    .header('location', `${to}?notice=${encodeURIComponent(notice)}`)
    .send();
}

async function dashboard(ui: UiServices) {
  const { stores } = ui.catalogue;
  const [platforms, images, counts, events, attention] = await Promise.all([
    ui.platforms.list(),
    stores.images.listAll(),
    stores.devices.statusCounts(),
    stores.events.list({ limit: 15 }),
    stores.devices.needingAttention(10),
  ]);
  const summaries: PlatformSummary[] = platforms.map((platform) => {
    const own = images.filter((i) => i.platform_id === platform.id);
    const mine = counts.filter((c) => c.platform_id === platform.id);
    const sum = (pick: (c: (typeof counts)[number]) => boolean) => mine.filter(pick).reduce((n, c) => n + c.devices, 0);
    return {
      platform,
      released: own.find((i) => i.id === platform.released_app_id),
      lastUpload: own.sort((a, b) => b.uploaded_at - a.uploaded_at)[0],
      devices: sum(() => true),
      current: sum((c) => c.last_reason === 'current'),
      offered: sum((c) => c.last_decision === 'serve'),
      refused: sum((c) => c.last_decision === 'refuse'),
    };
  });
  return { summaries, events, attention, now: ui.now() };
}

async function platformPage(ui: UiServices, name: string) {
  const { platform, images } = await ui.firmware.list(name);
  const { stores } = ui.catalogue;
  return {
    platform,
    images,
    allowlist: await stores.allowlist.list(platform.id),
    devices: await stores.devices.list({ platformId: platform.id, limit: 200 }),
    now: ui.now(),
  };
}
