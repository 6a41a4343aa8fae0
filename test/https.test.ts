import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp32App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const dir = mkdtempSync(join(tmpdir(), 'esp-ota-tls-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it; `serial` tells two certificates apart. */
function issueServerCertificate(serial: string): void {
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-subj',
    '/CN=127.0.0.1',
    '-out',
    'server.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    serial,
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
}

function peerSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(join(dir, 'ca.pem')) }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('HTTPS', () => {
  let t: TestApp;
  let agent: Agent;
  const plainPort = 20000 + Math.floor(Math.random() * 20000);
  beforeAll(async () => {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-subj',
      '/CN=esp-ota test CA',
      '-days',
      '2',
      '-out',
      'ca.pem',
    );
    issueServerCertificate('0x1001');
    t = await startTestApp('sqlite', {
      tlsCert: join(dir, 'server.pem'),
      tlsKey: join(dir, 'server.key'),
      httpPort: plainPort,
    });
    agent = new Agent({ connect: { ca: readFileSync(join(dir, 'ca.pem')) } });
  });
  afterAll(async () => {
    await agent?.close();
    await t?.stop();
  });

  it('serves a download to a client that verifies the certificate against the CA', async () => {
    expect(t.url.startsWith('https://')).toBe(true);
    await api(t.url.replace('https:', 'http:').replace(/:\d+$/, `:${plainPort}`), 'POST', '/api/v1/platforms', {
      name: 'Secure',
      accessMode: 'open',
    });
    const image = buildEsp32App({ descriptor: { projectName: 'Secure', version: '1.0.0' } });
    await api(t.url.replace('https:', 'http:').replace(/:\d+$/, `:${plainPort}`), 'POST', '/api/v1/firmware', image);
    const response = await undiciFetch(`${t.url}/ota/Secure/app.bin`, { dispatcher: agent });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(createHash('md5').update(body).digest('hex')).toBe(response.headers.get('x-md5'));
    // A client without the CA refuses the connection.
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });

  it('also answers plain HTTP on httpPort, for boards that cannot do TLS', async () => {
    const response = await fetch(`http://127.0.0.1:${plainPort}/update?dev=Secure&ver=0.9.0`, {
      headers: { 'x-esp32-sta-mac': '24:0A:C4:00:00:01' },
    });
    expect(response.status).toBe(200);
    // The framework's routes too, not only the device endpoint in front of it.
    expect((await fetch(`http://127.0.0.1:${plainPort}/healthz`)).status).toBe(200);
  });

  it('marks session cookies Secure over HTTPS', async () => {
    const response = await undiciFetch(`${t.url}/login`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: 'admin-password-123' }).toString(),
      redirect: 'manual',
    });
    expect(response.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('re-reads the certificate on reload (SIGHUP) without a restart', async () => {
    const port = Number(new URL(t.url).port);
    expect(await peerSerial(port)).toBe('1001');
    issueServerCertificate('0x2002');
    expect(t.app.reloadTls()).toBe(true);
    expect(await peerSerial(port)).toBe('2002');
  });
});
