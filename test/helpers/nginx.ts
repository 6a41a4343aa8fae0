import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx (package nginx-light), when installed. */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground (`daemon off`) as a reverse proxy on 127.0.0.1 in front of `upstreams` (round
 * robin, keep-alive to the upstreams), with every path it writes (pid, logs, temporary files) in a temporary
 * folder; `stop` ends it and removes the folder.
 */
export async function startNginx(upstreams: string[]): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const prefix = mkdtempSync(join(tmpdir(), 'esp-ota-nginx-'));
  for (const dir of ['body', 'proxy', 'logs']) mkdirSync(join(prefix, dir));
  const port = 40000 + Math.floor(Math.random() * 20000);
  const servers = upstreams.map((url) => `    server ${new URL(url).host};`).join('\n');
  const config = `
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  client_max_body_size 64m;
  upstream esp_ota {
${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://esp_ota;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_request_buffering off;
    }
  }
}
`;
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, config);
  const checked = spawnSync(NGINX, ['-t', '-p', prefix, '-c', file, '-e', join(prefix, 'logs/error.log')], {
    encoding: 'utf8',
  });
  if (checked.status !== 0) throw new Error(`nginx refused its configuration:\n${checked.stderr}`);
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', file, '-e', join(prefix, 'logs/error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${output}${readLog(prefix)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      // SIGQUIT: graceful shutdown (finishes open requests), as `nginx -s quit` does.
      if (child.exitCode === null) child.kill('SIGQUIT');
      await exited;
      if (process.env.ESP_OTA_NGINX_LOG) process.stderr.write(readLog(prefix));
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function readLog(prefix: string): string {
  try {
    return readFileSync(join(prefix, 'logs/error.log'), 'utf8');
  } catch {
    return '';
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
