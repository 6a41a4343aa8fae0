import { versionCounts, type UiServices } from './route-helpers.js';

/** How far back the page's chart of devices per version reaches. */
const CHART_SPAN_MS = 14 * 86_400_000;

/** App versions of a platform, newest upload first: what devices and groups can be pinned to. */
export async function appVersions(ui: UiServices, platform: string): Promise<string[]> {
  const { images } = await ui.reader.platformImages(platform);
  return images.filter((i) => i.kind === 'app').map((i) => i.version);
}

/** What the platform page shows of its groups. */
export async function platformGroupsProps(ui: UiServices, platform: string) {
  return { groups: await ui.groups.list(platform), versions: await appVersions(ui, platform) };
}

/** Everything the platform page shows: images, allowlist, devices, the chart, the rollout and the groups. */
export async function platformPageProps(ui: UiServices, name: string) {
  const now = ui.now();
  const [detail, rollout, groups, keys] = await Promise.all([
    ui.reader.platform(name, now - CHART_SPAN_MS),
    ui.rolloutOverview(name),
    platformGroupsProps(ui, name),
    ui.platformKeys ? ui.platformKeys.list(name) : Promise.resolve([]),
  ]);
  const installAsset = await ui.install?.releasedView(detail.platform);
  return {
    ...detail,
    ...groups,
    rollout,
    keys,
    installAsset,
    deviceVersions: versionCounts(ui, detail.platform.id),
    now,
  };
}
