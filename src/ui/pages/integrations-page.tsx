import type { MqttLinkStatus } from '../../features/mqtt/mqtt-link.js';
import type { DeliveryView, WebhookView } from '../../features/webhooks/webhook-service.js';
import type { LastDelivery } from '../../features/webhooks/webhook-dispatcher.js';
import { Layout } from '../layout.js';
import { Ago } from '../view-helpers.js';

export interface IntegrationsView {
  /** Undefined when MQTT is off (no `mqttUrl`). */
  mqtt: (MqttLinkStatus & { broker: string; topicPrefix: string; discoveryPrefix: string }) | undefined;
  webhooks: (WebhookView & { lastDelivery: LastDelivery | undefined; deliveries: DeliveryView[] })[];
  now: number;
}

/** The MQTT connection (Home Assistant) and the webhooks with their recent deliveries (admins). */
export function IntegrationsPage({ mqtt, webhooks, now }: IntegrationsView) {
  return (
    <Layout title="Integrations" path="/integrations">
      <section class="panel" aria-labelledby="mqtt">
        <h2 id="mqtt">MQTT and Home Assistant</h2>
        {!mqtt ? (
          <p>
            Off. Set <code>mqttUrl</code> (docs/configuration.md) to publish the fleet to a broker.
          </p>
        ) : (
          <dl>
            <dt>Broker</dt>
            <dd>{mqtt.broker}</dd>
            <dt>Connection</dt>
            <dd data-mqtt-state={mqtt.connected ? 'connected' : 'disconnected'}>
              {mqtt.connected ? 'connected' : 'not connected'}
              {mqtt.since > 0 && (
                <>
                  {' '}
                  since <Ago at={mqtt.since} now={now} />
                </>
              )}
              {!mqtt.connected && mqtt.lastError && ` (${mqtt.lastError})`}
            </dd>
            <dt>Topics</dt>
            <dd>
              <code>{mqtt.topicPrefix}/…</code>, discovery under <code>{mqtt.discoveryPrefix}/update/…</code>
            </dd>
            <dt>Messages</dt>
            <dd>
              {mqtt.published} published, {mqtt.queued} waiting, {mqtt.dropped} dropped
            </dd>
          </dl>
        )}
      </section>
      <section class="panel" aria-labelledby="webhooks">
        <h2 id="webhooks">Webhooks</h2>
        {webhooks.length === 0 ? (
          <p>
            None. Add one with <code>esp-ota webhook add &lt;url&gt;</code> or <code>POST /api/v1/webhooks</code>.
          </p>
        ) : (
          webhooks.map((hook) => (
            <article data-webhook={hook.id}>
              <h3>
                Webhook {hook.id}: <code>{hook.url}</code>
              </h3>
              <p>
                Events: {hook.events.length ? hook.events.join(', ') : 'all'}. Last delivery:{' '}
                <span data-last-delivery>
                  {hook.lastDelivery ? (
                    <>
                      {hook.lastDelivery.outcome} <Ago at={hook.lastDelivery.at} now={now} />
                    </>
                  ) : (
                    'none since the server started'
                  )}
                </span>
              </p>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Finished</th>
                      <th>Event</th>
                      <th>Platform</th>
                      <th>Outcome</th>
                      <th>Attempts</th>
                      <th>Answer</th>
                    </tr>
                  </thead>
                  <tbody>
                    {hook.deliveries.map((d) => (
                      <tr>
                        <td>
                          <Ago at={d.finishedAt} now={now} />
                        </td>
                        <td>{d.eventType}</td>
                        <td>{d.platform ?? '—'}</td>
                        <td>{d.outcome}</td>
                        <td>{d.attempts}</td>
                        <td>{d.httpStatus ?? d.error ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </article>
          ))
        )}
      </section>
    </Layout>
  );
}
