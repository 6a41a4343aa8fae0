import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Debian's nginx (`apt-get install nginx-light`); CI installs it, elsewhere its tests skip when it is missing. */
export const NGINX = process.env.ESP_OTA_NGINX ?? '/usr/sbin/nginx';
export const NGINX_AVAILABLE = spawnSync(NGINX, ['-v']).status === 0;
if (!NGINX_AVAILABLE && process.env.CI) throw new Error(`no nginx at ${NGINX}: CI must run the nginx tests`);
export const NGINX_SKIP_REASON = `nginx tests skipped: no nginx at ${NGINX} (apt-get install nginx-light)`;

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * nginx in the foreground on 127.0.0.1 with a generated configuration: `serverBlock` is the body of its one
 * `server { }` (the listen line is added). Temporary files and logs stay in `dir`.
 */
export async function startNginx(dir: string, serverBlock: string): Promise<Nginx> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'nginx.conf');
  // As root, nginx's workers would switch to a user that cannot read the test's private folders.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(
    config,
    `daemon off; ${user} worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port};
${serverBlock}
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-c', config, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(url);
      break;
    } catch (error) {
      if (i > 100 || child.exitCode !== null) throw new Error(`nginx did not start: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}
