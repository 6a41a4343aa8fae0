import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { api, AUTH, TEST_TOKEN } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp32App } from './synthetic/image-builder.js';

interface Received {
  status: number;
  signatureOk: boolean;
  event: { type: string; platform: string | null; to: string | null; actor: string | null };
  delivery: string;
}

const SECRET = 'hook-secret-0123456789abcdef';
const esp32 = (project: string, version: string) => buildEsp32App({ descriptor: { projectName: project, version } });

/** Issue 16: webhooks get the event log as signed JSON, retried after failures, in order per platform. */
describeEachStore('webhooks', (store) => {
  let t: TestApp;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  /** The receiver answers 500 to this many requests first. */
  let failuresLeft = 3;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
        const parsed = JSON.parse(body.toString('utf8')) as { event: Received['event']; delivery: string };
        const status = failuresLeft-- > 0 ? 500 : 200;
        received.push({
          status,
          signatureOk: request.headers['x-signature'] === expected,
          event: parsed.event,
          delivery: parsed.delivery,
        });
        response.statusCode = status;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/esp-ota`;
    t = await startTestApp(store, { webhookRetryMs: 20 });
  });
  afterAll(async () => {
    await t.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('delivers the events it asked for, signed, retrying after 500s, in order per platform', async () => {
    const added = await api<{ webhook: { id: number; url: string; events: string[] }; secret: string }>(
      t.url,
      'POST',
      '/api/v1/webhooks',
      { url: receiverUrl, secret: SECRET, events: ['platform-created', 'upload'] },
    );
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ secret: SECRET, webhook: { url: receiverUrl } });
    const id = added.json.webhook.id;
    const listed = await api<{ webhooks: Record<string, unknown>[] }>(t.url, 'GET', '/api/v1/webhooks');
    expect(JSON.stringify(listed.json)).not.toContain(SECRET);
    expect((await fetch(`${t.url}/api/v1/webhooks`)).status).toBe(401);

    for (const platform of ['Alpha', 'Beta']) {
      await api(t.url, 'POST', '/api/v1/platforms', { name: platform, accessMode: 'open' });
    }
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      await api(t.url, 'POST', '/api/v1/platforms/Alpha/firmware', esp32('alpha', version));
      await api(t.url, 'POST', '/api/v1/platforms/Beta/firmware', esp32('beta', version));
    }
    await t.app.webhookDispatcher.idle();

    expect(received.every((r) => r.signatureOk)).toBe(true);
    expect(received.filter((r) => r.status === 500)).toHaveLength(3);
    const delivered = received.filter((r) => r.status === 200);
    expect(delivered.every((r) => r.event.type === 'platform-created' || r.event.type === 'upload')).toBe(true);
    for (const platform of ['Alpha', 'Beta']) {
      expect(
        delivered.filter((r) => r.event.platform === platform).map((r) => `${r.event.type} ${r.event.to ?? ''}`),
      ).toEqual(['platform-created ', 'upload 1.0.0', 'upload 1.1.0', 'upload 1.2.0']);
    }
    // A retry is the same delivery, signed the same way.
    const retried = received.find((r) => r.status === 500)!;
    expect(delivered.some((r) => r.delivery === retried.delivery)).toBe(true);

    const log = await api<{
      deliveries: { eventType: string; outcome: string; attempts: number; httpStatus: number }[];
    }>(t.url, 'GET', `/api/v1/webhooks/${id}/deliveries`);
    expect(log.json.deliveries).toHaveLength(8);
    expect(log.json.deliveries.every((d) => d.outcome === 'delivered' && d.httpStatus === 200)).toBe(true);
    expect(log.json.deliveries.reduce((sum, d) => sum + d.attempts, 0)).toBe(8 + 3);
    const last = await api<{ webhooks: { lastDelivery: { outcome: string } | null }[] }>(
      t.url,
      'GET',
      '/api/v1/webhooks',
    );
    expect(last.json.webhooks[0]!.lastDelivery).toMatchObject({ outcome: 'delivered' });
    const page = await (await fetch(`${t.url}/integrations`, { headers: AUTH })).text();
    expect(page).toMatch(/<span data-last-delivery="true">delivered/);
    expect(page.match(/<td>upload<\/td>/g)).toHaveLength(6);
    expect(page).not.toContain(SECRET);
  });

  it('refuses bad input with 400 and an unknown hook with 404; removing one is an event with its actor', async () => {
    expect((await api(t.url, 'POST', '/api/v1/webhooks', { url: 'ftp://x' })).status).toBe(400);
    expect((await api(t.url, 'POST', '/api/v1/webhooks', { url: 'http://u:p@x/' })).status).toBe(400);
    expect((await api(t.url, 'POST', '/api/v1/webhooks', { url: receiverUrl, events: ['UPLOAD!'] })).status).toBe(400);
    expect((await api(t.url, 'POST', '/api/v1/webhooks', { url: receiverUrl, secret: 'short' })).status).toBe(400);
    expect((await api(t.url, 'DELETE', '/api/v1/webhooks/999')).status).toBe(404);
    expect((await api(t.url, 'GET', '/api/v1/webhooks/999/deliveries')).status).toBe(404);
    const { json } = await api<{ webhooks: { id: number }[] }>(t.url, 'GET', '/api/v1/webhooks');
    expect((await api(t.url, 'DELETE', `/api/v1/webhooks/${json.webhooks[0]!.id}`)).status).toBe(204);
    const events = await api<{ events: { type: string; actor: string; detail: string }[] }>(
      t.url,
      'GET',
      '/api/v1/events?type=webhook-removed',
    );
    expect(events.json.events[0]).toMatchObject({ actor: 'token:ESP_OTA_API_TOKEN' });
    expect(events.json.events[0]!.detail).not.toContain('/hooks/');
    expect((await api<{ webhooks: unknown[] }>(t.url, 'GET', '/api/v1/webhooks')).json.webhooks).toHaveLength(0);
  });

  it('is managed from the CLI too: add (prints the secret once), list, deliveries, remove', async () => {
    const cli = (...args: string[]) => runCli('--server', t.url, '--token', TEST_TOKEN, ...args);
    const added = await cli('webhook', 'add', receiverUrl, '--events', 'platform-created', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { webhook, secret } = JSON.parse(added.stdout) as { webhook: { id: number }; secret: string };
    expect(secret).toMatch(/^[0-9a-f]{48}$/);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Gamma', accessMode: 'open' });
    await t.app.webhookDispatcher.idle();
    const list = await cli('webhook', 'list');
    expect(list.stdout).toContain(`${webhook.id}  ${receiverUrl}  events: platform-created  last delivery: delivered`);
    expect(list.stdout).not.toContain(secret);
    const deliveries = await cli('webhook', 'deliveries', String(webhook.id));
    expect(deliveries.stdout).toMatch(/delivered {2}platform-created {2}Gamma {2}attempts 1 {2}200/);
    expect((await cli('webhook', 'remove', String(webhook.id))).code).toBe(0);
    const again = await cli('webhook', 'remove', String(webhook.id));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('no webhook');
  });
});
