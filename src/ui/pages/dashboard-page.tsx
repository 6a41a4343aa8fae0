import { CsrfField } from '../csrf-field.js';
import type { Dashboard } from '../../features/fleet/fleet-reader.js';
import { formatMac } from '../../lib/mac.js';
import { Layout } from '../layout.js';
import { useCan } from '../session-context.js';
import { Ago, StatusBadge } from '../view-helpers.js';
import { EventList } from './events-page.js';

/** What was typed in the new-platform form, shown again when the server refused it. */
export interface NewPlatformForm {
  name?: string | undefined;
  chip?: string | undefined;
}

export function DashboardPage(
  props: Dashboard & { now: number; error?: string; notice?: string; typed?: NewPlatformForm },
) {
  const { summaries, events, attention, now } = props;
  const isAdmin = useCan('admin');
  return (
    <Layout title="Dashboard" path="/" error={props.error} notice={props.notice}>
      <section aria-labelledby="platforms">
        <h2 id="platforms">Platforms</h2>
        {summaries.length === 0 && (
          <p class="muted">No platforms yet. An admin creates one here, then uploads firmware.</p>
        )}
        <div class="cards">
          {summaries.map((s) => (
            <article class="card">
              <h3>
                <a href={`/platforms/${encodeURIComponent(s.platform.name)}`}>{s.platform.name}</a>
              </h3>
              <div class="big">{s.released ? s.released.version : '—'}</div>
              <div class="muted">
                {s.platform.chip ?? 'any chip'} ·{' '}
                {s.platform.access_mode === 'open' ? 'open to all devices' : 'allowlist'}
              </div>
              <p>
                {s.devices} devices: <span class="badge ok">{s.current} current</span>{' '}
                <span class="badge warn">{s.offered} offered</span> <span class="badge bad">{s.refused} refused</span>
              </p>
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
        {isAdmin && (
          <form method="post" action="/platforms" class="row panel spaced">
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
        {attention.length === 0 ? (
          <p class="muted">Nothing: no device was refused, none keeps failing to install.</p>
        ) : (
          <ul class="plain panel">
            {attention.map((d) => (
              <li>
                <a href={`/devices/${d.mac}`}>{formatMac(d.mac)}</a> ({d.platform_name}) <StatusBadge device={d} />{' '}
                {d.last_decision === 'serve'
                  ? `downloaded the release ${d.downloads_of_release}× and still runs ${d.reported_version ?? 'an older version'}`
                  : ''}{' '}
                <span class="muted">
                  <Ago at={d.last_seen_at} now={now} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="latest">
        <h2 id="latest">Latest events</h2>
        <div hx-get="/fragments/latest-events" hx-trigger="every 5s" hx-swap="innerHTML">
          <EventList events={events} now={now} />
        </div>
      </section>
    </Layout>
  );
}
