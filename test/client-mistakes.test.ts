import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/** Each mistake from issue 11, one by one: a 4xx that says why, on both stores, and nothing kept or lost. */
describeEachStore('issue 11: client mistakes are 4xx with a reason, never 500', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Mistakes', chip: 'esp8266' });
    await api(t.url, 'POST', '/api/v1/platforms/Mistakes/allowlist', { mac: '5CCF7F000001' });
  });
  afterAll(() => t.stop());

  const send = async (method: string, path: string, body?: string | Buffer, type?: string) => {
    const response = await fetch(t.url + path, {
      method,
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
      redirect: 'manual',
      headers: { ...AUTH, ...(type ? { 'content-type': type } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  const json = (text: string) => JSON.parse(text) as { error: string; message: string };

  it('answers paths that are not valid percent-encoding in the shape of their audience', async () => {
    const api400 = await send('GET', '/api/v1/platforms/%ZZ');
    expect(api400.status).toBe(400);
    expect(json(api400.text)).toEqual({
      error: 'bad-request',
      message: 'the path is not valid percent-encoded UTF-8',
    });
    const page = await send('GET', '/platforms/%ED%A0%80');
    expect(page.status).toBe(400);
    expect(page.type).toContain('text/html');
    expect(page.text).toContain('the path is not valid percent-encoded UTF-8');
  });
});
