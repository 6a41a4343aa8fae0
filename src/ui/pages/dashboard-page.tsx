import { CsrfField } from '../csrf-field.js';
import type { Dashboard } from '../../features/fleet/fleet-reader.js';
import type { PlatformSummary } from '../../features/fleet/platform-summary.js';
import type { DeviceView } from '../../features/views.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { useCan } from '../session-context.js';
import { Ago, StatusBadge } from '../view-helpers.js';
import { EventList } from './events-page.js';
import { stageText } from '../rollout-panel.js';
import type { RolloutSummary } from '../../features/rollouts/rollout-overview.js';

/** What was typed in the new-platform form, shown again when the server refused it (or offered by a link). */
export interface NewPlatformForm {
  name?: string | undefined;
  chip?: string | undefined;
}

/** A platform name devices ask for that does not exist (from the newest refusals), with the latest asker. */
export interface MissingPlatform {
  name: string;
  mac: string | null;
  at: number;
}

export type DashboardView = Dashboard & { now: number; missing: MissingPlatform[] };

/** How often the dashboard's cards, attention list and events refresh themselves. */
const REFRESH = 'every 5s';

export function DashboardPage(
  props: DashboardView & { error?: string | undefined; notice?: string | undefined; typed?: NewPlatformForm },
) {
  const { summaries, events, attention, missing, rollouts, now } = props;
  const isAdmin = useCan('admin');
  return (
    <Layout title="Dashboard" path="/" error={props.error} notice={props.notice}>
      <section aria-labelledby="platforms">
        <h2 id="platforms">Platforms</h2>
        {/* One request refreshes the three live regions (the other two swap out of band), unless one holds focus. */}
        <div id="platform-cards" data-live hx-get="/fragments/dashboard" hx-trigger={REFRESH} hx-swap="innerHTML">
          <PlatformCards summaries={summaries} rollouts={rollouts} now={now} />
        </div>
        {isAdmin && (
          <form method="post" action="/platforms" class="row panel spaced" id="new-platform">
            <CsrfField />
            <label>
              New platform
              <input name="name" required maxLength={64} placeholder="AirPatrol" value={props.typed?.name ?? ''} />
            </label>
            <label>
              Chip (optional)
              <input name="chip" placeholder="esp8266, esp32s3 …" maxLength={16} value={props.typed?.chip ?? ''} />
            </label>
            <button type="submit">Create platform</button>
          </form>
        )}
      </section>

      <section aria-labelledby="attention">
        <h2 id="attention">Needs attention</h2>
        <AttentionRegion attention={attention} missing={missing} paused={pausedRollouts(props)} now={now} />
      </section>

      <section aria-labelledby="latest">
        <h2 id="latest">Latest events</h2>
        <EventsRegion events={events} now={now} />
      </section>
    </Layout>
  );
}

/** The answer to the dashboard's refresh: the cards, and the other two regions to swap by id. */
export function DashboardLive(props: DashboardView) {
  return (
    <>
      <PlatformCards summaries={props.summaries} rollouts={props.rollouts} now={props.now} />
      <AttentionRegion
        attention={props.attention}
        missing={props.missing}
        paused={pausedRollouts(props)}
        now={props.now}
        oob
      />
      <EventsRegion events={props.events} now={props.now} oob />
    </>
  );
}

/** Paused rollouts need a person: resume, or abort. */
function pausedRollouts(props: DashboardView): PausedRollout[] {
  return props.summaries.flatMap((s) => {
    const rollout = props.rollouts.get(s.platform.id);
    return rollout?.state === 'paused' ? [{ platform: s.platform.name, rollout }] : [];
  });
}

interface PausedRollout {
  platform: string;
  rollout: RolloutSummary;
}

function PlatformCards({
  summaries,
  rollouts,
  now,
}: {
  summaries: PlatformSummary[];
  rollouts: Map<number, RolloutSummary>;
  now: number;
}) {
  if (summaries.length === 0) {
    return <p class="muted">No platforms yet. An admin creates one here, then uploads firmware.</p>;
  }
  return (
    <div class="cards">
      {summaries.map((s) => (
        <article class="card">
          <h3>
            <a href={`/platforms/${encodeURIComponent(s.platform.name)}`}>{s.platform.name}</a>
          </h3>
          <div class="big-label">Released version</div>
          <div class="big">{s.released ? s.released.version : 'none yet'}</div>
          <div class="muted">
            {s.platform.chip ?? 'any chip'} · {s.platform.access_mode === 'open' ? 'open to all devices' : 'allowlist'}
          </div>
          <p>
            {s.devices} {s.devices === 1 ? 'device' : 'devices'}: <span class="badge ok">{s.current} current</span>{' '}
            <span class="badge warn">{s.outdated} outdated</span> <span class="badge bad">{s.refused} refused</span>
          </p>
          <RolloutLine rollout={rollouts.get(s.platform.id)} />
          <div class="muted">
            {s.lastUpload ? (
              <>
                last upload <Ago at={s.lastUpload.uploaded_at} now={now} />
              </>
            ) : (
              'no uploads yet'
            )}
          </div>
        </article>
      ))}
    </div>
  );
}

/** The card's line about a running or paused rollout. */
function RolloutLine({ rollout }: { rollout: RolloutSummary | undefined }) {
  if (!rollout) return null;
  return (
    <p class="rollout-line">
      Rollout of <strong>{rollout.targetVersion}</strong>{' '}
      <span class={`badge ${rollout.state === 'paused' ? 'warn' : 'ok'}`}>{rollout.state}</span> {stageText(rollout)}
    </p>
  );
}

function AttentionRegion(props: {
  attention: DeviceView[];
  missing: MissingPlatform[];
  paused: PausedRollout[];
  now: number;
  oob?: boolean;
}) {
  const { attention, missing, paused, now } = props;
  return (
    <div id="attention-list" data-live hx-swap-oob={props.oob ? 'true' : undefined}>
      {attention.length === 0 && missing.length === 0 && paused.length === 0 ? (
        <p class="muted">Nothing: no device was refused, none keeps failing to install.</p>
      ) : (
        <ul class="plain panel">
          {paused.map((p) => (
            <li>
              The rollout of <strong>{p.rollout.targetVersion}</strong> on <strong>{p.platform}</strong> is paused:{' '}
              {p.rollout.pauseReason ?? 'no reason given'}{' '}
              <span class="actions">
                <a class="button small" href={`/platforms/${encodeURIComponent(p.platform)}#rollout`}>
                  Open the rollout
                </a>
              </span>
            </li>
          ))}
          {missing.map((m) => (
            <MissingPlatformItem missing={m} now={now} />
          ))}
          {attention.map((d) => (
            <AttentionItem device={d} now={now} />
          ))}
        </ul>
      )}
    </div>
  );
}

function MissingPlatformItem({ missing: m, now }: { missing: MissingPlatform; now: number }) {
  const isAdmin = useCan('admin');
  return (
    <li>
      Devices ask for the platform <strong>{m.name}</strong>, which does not exist{' '}
      {m.mac && <>(last: {formatMac(m.mac)}) </>}
      <span class="muted">
        <Ago at={m.at} now={now} />
      </span>
      <span class="actions">
        {isAdmin && (
          <a class="button small" href={`/?newPlatform=${encodeURIComponent(m.name)}#new-platform`}>
            Create platform {m.name}
          </a>
        )}
        {m.mac && <a href={`/devices/${m.mac}`}>Open its history</a>}
        <a href={`/events?platform=${encodeURIComponent(m.name)}`}>Its requests</a>
      </span>
    </li>
  );
}

/** A device that needs a person, with what that person can do about it. */
function AttentionItem({ device: d, now }: { device: DeviceView; now: number }) {
  const isAdmin = useCan('admin');
  const mac = formatMac(d.mac);
  const platform = encodeURIComponent(d.platform_name);
  return (
    <li>
      <a href={`/devices/${d.mac}`}>{mac}</a> ({d.platform_name}) <StatusBadge device={d} />{' '}
      {d.last_decision === 'serve'
        ? `downloaded the release ${d.downloads_of_release}× and still runs ${d.reported_version ?? 'an older version'}`
        : ''}{' '}
      <span class="muted">
        <Ago at={d.last_seen_at} now={now} />
      </span>
      <span class="actions">
        {isAdmin && d.last_reason === 'not-allowed' && (
          <a class="button small" href={`/platforms/${platform}?allow=${encodeURIComponent(mac)}#allowlist`}>
            Allow this device
          </a>
        )}
        <a href={`/devices/${d.mac}`}>Open its history</a>
      </span>
    </li>
  );
}

function EventsRegion(props: { events: Dashboard['events']; now: number; oob?: boolean }) {
  return (
    <div id="latest-events" data-live hx-swap-oob={props.oob ? 'true' : undefined}>
      <EventList events={props.events} now={props.now} />
    </div>
  );
}
