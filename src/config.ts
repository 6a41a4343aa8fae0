import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseTrustedProxies } from './lib/trusted-proxies.js';

/**
 * Every setting, in one table: its YAML key, environment variable, default and meaning. Values come from defaults ←
 * YAML file (`--config` / `ESP_OTA_CONFIG`) ← `ESP_OTA_*` environment ← command-line flags, and are validated at
 * start; a bad configuration stops the server with every problem listed. docs/configuration.md mirrors this table.
 */
type OptionType = 'integer' | 'size' | 'string' | 'boolean' | 'enum' | 'proxies';

interface OptionSpec {
  env: string;
  type: OptionType;
  default: string | number | boolean;
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

const MiB = 1024 * 1024;

export const OPTIONS = {
  port: { env: 'ESP_OTA_PORT', type: 'integer', default: 8080, min: 0, max: 65535, description: 'TCP port for HTTP' },
  host: { env: 'ESP_OTA_HOST', type: 'string', default: '0.0.0.0', description: 'address to listen on' },
  publicUrl: {
    env: 'ESP_OTA_PUBLIC_URL',
    type: 'string',
    default: '',
    description:
      'the URL boards reach this server at (http(s)://host[:port]), used in the "Connect a board" code; empty: the address the browser used',
  },
  data: {
    env: 'ESP_OTA_DATA',
    type: 'string',
    default: './data',
    description: 'data folder: SQLite database and firmware files',
  },
  databaseUrl: {
    env: 'ESP_OTA_DATABASE_URL',
    type: 'string',
    default: '',
    description: 'postgres://… to use PostgreSQL (several instances may share it); empty: SQLite in the data folder',
  },
  uploadLimit: {
    env: 'ESP_OTA_UPLOAD_LIMIT',
    type: 'size',
    default: 16 * MiB,
    min: 1024,
    description: 'largest accepted upload (e.g. 16MiB)',
  },
  imageCache: {
    env: 'ESP_OTA_IMAGE_CACHE',
    type: 'size',
    default: 64 * MiB,
    min: 0,
    description: 'memory for released images served to devices',
  },
  logLevel: {
    env: 'ESP_OTA_LOG_LEVEL',
    type: 'enum',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'log level (JSON lines on stdout)',
  },
  catalogueRefreshMs: {
    env: 'ESP_OTA_CATALOGUE_REFRESH_MS',
    type: 'integer',
    default: 2000,
    min: 0,
    description:
      'how long device checks may use the in-memory catalogue before re-reading it (matters with several instances)',
  },
  eventFlushMs: {
    env: 'ESP_OTA_EVENT_FLUSH_MS',
    type: 'integer',
    default: 1000,
    min: 10,
    max: 60_000,
    description: 'device changes and events are written at least this often (what a crash may lose of them)',
  },
  deviceSeenFlushMs: {
    env: 'ESP_OTA_DEVICE_SEEN_FLUSH_MS',
    type: 'integer',
    default: 5 * 60_000,
    min: 10,
    max: 3_600_000,
    description:
      'checks that change nothing are written (last seen, check counts) at least this often, in MAC order (what a crash may lose of them)',
  },
  refusalEventIntervalMs: {
    env: 'ESP_OTA_REFUSAL_EVENT_INTERVAL_MS',
    type: 'integer',
    default: 3_600_000,
    min: 0,
    max: 7 * 86_400_000,
    description:
      'a device refused again (or repeating an outcome report) within this time adds to the count of its last such event',
  },
  rolloutMonitorMs: {
    env: 'ESP_OTA_ROLLOUT_MONITOR_MS',
    type: 'integer',
    default: 5_000,
    min: 10,
    max: 600_000,
    description: 'how often running rollouts find silent devices, count their devices and judge themselves',
  },
  versionSampleMs: {
    env: 'ESP_OTA_VERSION_SAMPLE_MS',
    type: 'integer',
    default: 600_000,
    min: 1000,
    max: 86_400_000,
    description: "how often devices per version are counted for the platform page's chart (kept as long as events)",
  },
  listenBacklog: {
    env: 'ESP_OTA_LISTEN_BACKLOG',
    type: 'integer',
    default: 4096,
    min: 1,
    max: 65535,
    description:
      'connections the kernel queues before the server accepts them (a fleet back after a power cut connects at once); capped by net.core.somaxconn',
  },
  maxDeviceRequests: {
    env: 'ESP_OTA_MAX_DEVICE_REQUESTS',
    type: 'integer',
    default: 2000,
    min: 0,
    description:
      'device requests in progress at once (checks and downloads) beyond which a device gets 503 at once with Retry-After (x-ota-reason: busy); 0: no limit',
  },
  downloadOffload: {
    env: 'ESP_OTA_DOWNLOAD_OFFLOAD',
    type: 'string',
    default: '',
    description:
      "behind nginx: answer image downloads with `X-Accel-Redirect: <this prefix><2 hex>/<sha256>` (an internal nginx location over the data folder's blobs/) and let nginx send the bytes; empty: the server sends them. Needs the SQLite data folder (not databaseUrl)",
  },
  orphanGraceMs: {
    env: 'ESP_OTA_ORPHAN_GRACE_MS',
    type: 'integer',
    default: 10 * 60_000,
    min: 0,
    description: 'an unreferenced firmware file is deleted once it is at least this old',
  },
  trustProxy: {
    env: 'ESP_OTA_TRUST_PROXY',
    type: 'proxies',
    default: false,
    description:
      'take client addresses from X-Forwarded-For sent by these proxies: true (loopback only), false, or a comma-separated list of addresses/CIDRs',
  },
  metricsToken: {
    env: 'ESP_OTA_METRICS_TOKEN',
    type: 'string',
    default: '',
    description: 'if set, GET /metrics requires `Authorization: Bearer <token>`',
  },
  eventRetentionDays: {
    env: 'ESP_OTA_EVENT_RETENTION_DAYS',
    type: 'integer',
    default: 90,
    min: 1,
    description: 'events older than this are deleted',
  },
  eventRetentionCount: {
    env: 'ESP_OTA_EVENT_RETENTION_COUNT',
    type: 'integer',
    default: 1_000_000,
    min: 1000,
    description: 'at most this many events are kept (the newest)',
  },
  deviceRetentionDays: {
    env: 'ESP_OTA_DEVICE_RETENTION_DAYS',
    type: 'integer',
    default: 365,
    min: 1,
    description: 'devices not seen for this long leave the inventory',
  },
  maintenanceIntervalMs: {
    env: 'ESP_OTA_MAINTENANCE_INTERVAL_MS',
    type: 'integer',
    default: 3_600_000,
    min: 1000,
    description: 'how often retention, SQLite checkpoint/vacuum and the orphan-file collector run',
  },
  tlsCert: {
    env: 'ESP_OTA_TLS_CERT',
    type: 'string',
    default: '',
    description: 'PEM certificate (chain) file: with tlsKey, the server speaks HTTPS on `port`; re-read on SIGHUP',
  },
  tlsKey: { env: 'ESP_OTA_TLS_KEY', type: 'string', default: '', description: 'PEM private key file for tlsCert' },
  httpPort: {
    env: 'ESP_OTA_HTTP_PORT',
    type: 'integer',
    default: 0,
    min: 0,
    max: 65535,
    description: 'with HTTPS on: also serve plain HTTP on this port (boards that cannot do TLS); 0: off',
  },
  adminPassword: {
    env: 'ESP_OTA_ADMIN_PASSWORD',
    type: 'string',
    default: '',
    description: 'password for the `admin` account created on first start (empty: a random one, printed once)',
  },
  signingKey: {
    env: 'ESP_OTA_SIGNING_KEY',
    type: 'string',
    default: '',
    description:
      'PEM private key file for server-side signing: unsigned uploads to platforms that trust its public key are signed at upload (docs/security.md); never exported or logged; empty: off',
  },
  signCommand: {
    env: 'ESP_OTA_SIGN_COMMAND',
    type: 'string',
    default: '',
    description:
      'instead of signingKey, a shell command that signs (a KMS or HSM holds the key): it reads the bytes to sign on stdin (their SHA-256 in `ESP_OTA_SIGN_SHA256`, the algorithm in `ESP_OTA_SIGN_ALGORITHM`) and writes the signature to stdout; needs signingPublicKey',
  },
  signingPublicKey: {
    env: 'ESP_OTA_SIGNING_PUBLIC_KEY',
    type: 'string',
    default: '',
    description:
      "PEM public key file of signCommand's key: which platforms it signs for, and what its signatures are checked against",
  },
  apiToken: {
    env: 'ESP_OTA_API_TOKEN',
    type: 'string',
    default: '',
    description: 'one admin API token for automation (`Authorization: Bearer …`), never stored; empty: none',
  },
  mqttUrl: {
    env: 'ESP_OTA_MQTT_URL',
    type: 'string',
    default: '',
    description:
      'MQTT broker to publish the fleet to (Home Assistant discovery, install commands, events): mqtt://host:1883 or mqtts://host:8883 for TLS; empty: MQTT off',
  },
  mqttUsername: {
    env: 'ESP_OTA_MQTT_USERNAME',
    type: 'string',
    default: '',
    description: 'user name for the MQTT broker; empty: none',
  },
  mqttPassword: {
    env: 'ESP_OTA_MQTT_PASSWORD',
    type: 'string',
    default: '',
    description: 'password for the MQTT broker (never logged, stored or exported)',
  },
  mqttCaFile: {
    env: 'ESP_OTA_MQTT_CA_FILE',
    type: 'string',
    default: '',
    description: "with mqtts://: a PEM file of the CA(s) that signed the broker's certificate; empty: the system's",
  },
  mqttClientId: {
    env: 'ESP_OTA_MQTT_CLIENT_ID',
    type: 'string',
    default: 'esp-ota-server',
    description: 'MQTT client id (give each instance its own when several share a broker)',
  },
  mqttTopicPrefix: {
    env: 'ESP_OTA_MQTT_TOPIC_PREFIX',
    type: 'string',
    default: 'esp-ota',
    description: 'first level(s) of every topic this server publishes and listens to (status, devices, events)',
  },
  mqttDiscoveryPrefix: {
    env: 'ESP_OTA_MQTT_DISCOVERY_PREFIX',
    type: 'string',
    default: 'homeassistant',
    description: "Home Assistant's discovery prefix (its MQTT integration setting)",
  },
  mqttQueueLimit: {
    env: 'ESP_OTA_MQTT_QUEUE_LIMIT',
    type: 'integer',
    default: 10_000,
    min: 10,
    max: 1_000_000,
    description:
      'MQTT messages kept while the broker is out of reach; beyond it the oldest are dropped and counted (esp_ota_mqtt_dropped_total)',
  },
  webhookRetryMs: {
    env: 'ESP_OTA_WEBHOOK_RETRY_MS',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 3_600_000,
    description:
      'a failed webhook delivery is tried again after this, then 5×, 30×, 120× and 600× this (5 retries), then logged as failed',
  },
} as const satisfies Record<string, OptionSpec>;

/** The typed configuration: one field per option, so the table and the type cannot drift apart. */
export type Config = { [K in OptionName]: OptionValue<(typeof OPTIONS)[K]> };
type OptionValue<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'proxies' }
    ? string[]
    : S extends { type: 'integer' | 'size' }
      ? number
      : string;

export type OptionName = keyof typeof OPTIONS;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ConfigSources {
  /** Values from command-line flags (already named by option). */
  flags?: Partial<Record<OptionName, string | number | boolean>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML file; defaults to ESP_OTA_CONFIG. */
  file?: string | undefined;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const problems: string[] = [];
  const raw: Partial<Record<OptionName, unknown>> = {};
  const origin: Partial<Record<OptionName, string>> = {};

  const file = sources.file ?? env.ESP_OTA_CONFIG;
  if (file) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        problems.push(`${file}: the configuration file must be a YAML mapping of option: value`);
      } else {
        for (const [key, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
          if (!(key in OPTIONS))
            problems.push(`${file}: unknown option "${key}" (known: ${Object.keys(OPTIONS).join(', ')})`);
          else {
            raw[key as OptionName] = value;
            origin[key as OptionName] = `${file}: ${key}`;
          }
        }
      }
    } catch (error) {
      problems.push(`${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    if (env[spec.env] !== undefined && env[spec.env] !== '') {
      raw[name] = env[spec.env];
      origin[name] = spec.env;
    }
    const flag = sources.flags?.[name];
    if (flag !== undefined) {
      raw[name] = flag;
      origin[name] = `--${name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    }
  }

  const config: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const value = raw[name] ?? spec.default;
    const result = coerce(value, spec);
    if (typeof result === 'object' && !Array.isArray(result))
      problems.push(`${origin[name] ?? name}: ${result.problem}`);
    else config[name] = result;
  }
  if (typeof config.databaseUrl === 'string' && config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    problems.push(
      `${origin.databaseUrl ?? 'databaseUrl'}: only postgres:// URLs are supported (leave empty for SQLite)`,
    );
  }
  const offload = config.downloadOffload;
  if (typeof offload === 'string' && offload) {
    if (!/^\/[A-Za-z0-9._~/-]*\/$/.test(offload))
      problems.push(
        `${origin.downloadOffload ?? 'downloadOffload'}: must be a URL path that starts and ends with "/" (e.g. /_blobs/), not ${JSON.stringify(offload)}`,
      );
    if (config.databaseUrl)
      problems.push(
        `${origin.downloadOffload ?? 'downloadOffload'}: needs image files in the data folder, but with databaseUrl images are kept in PostgreSQL; leave downloadOffload empty`,
      );
  }
  if (typeof config.publicUrl === 'string' && config.publicUrl && !isPublicUrl(config.publicUrl)) {
    problems.push(
      `${origin.publicUrl ?? 'publicUrl'}: must be an http:// or https:// URL without a path, e.g. http://ota.lan:8080`,
    );
  }
  problems.push(...mqttProblems(config, origin));
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...(config as unknown as Config), data: resolve(config.data as string) };
}

/** The broker URL carries no credentials (they would be logged with it), and topic prefixes are plain topics. */
function mqttProblems(config: Record<string, unknown>, origin: Partial<Record<OptionName, string>>): string[] {
  const problems: string[] = [];
  const url = config.mqttUrl;
  if (typeof url === 'string' && url) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^mqtts?:$/.test(parsed.protocol) || !parsed.hostname)
      problems.push(`${origin.mqttUrl ?? 'mqttUrl'}: must be mqtt://host[:port] or mqtts://host[:port]`);
    else if (parsed.username || parsed.password)
      problems.push(`${origin.mqttUrl ?? 'mqttUrl'}: give the user and password as mqttUsername and mqttPassword`);
  }
  for (const name of ['mqttTopicPrefix', 'mqttDiscoveryPrefix'] as const) {
    const value = config[name];
    if (typeof value === 'string' && !/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(value))
      problems.push(
        `${origin[name] ?? name}: must be topic levels of letters, digits, _ and - separated by "/", not ${JSON.stringify(value)}`,
      );
  }
  const clientId = config.mqttClientId;
  if (typeof clientId === 'string' && !/^[A-Za-z0-9_.-]{1,64}$/.test(clientId))
    problems.push(`${origin.mqttClientId ?? 'mqttClientId'}: 1 to 64 letters, digits, ".", "_" or "-"`);
  return problems;
}

/** A base URL boards can be given: http(s), a host, an optional port, nothing after it (a trailing / is allowed). */
function isPublicUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) && url.pathname === '/' && !url.search && !url.hash && !url.username;
  } catch {
    return false;
  }
}

function coerce(value: unknown, spec: OptionSpec): string | number | boolean | string[] | { problem: string } {
  switch (spec.type) {
    case 'proxies':
      return parseTrustedProxies(value);
    case 'string':
      return typeof value === 'string' || typeof value === 'number' ? String(value) : { problem: 'must be a string' };
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 'yes') return true;
      if (value === 'false' || value === '0' || value === 'no') return false;
      return { problem: `must be true or false, not ${JSON.stringify(value)}` };
    case 'enum':
      return typeof value === 'string' && spec.values!.includes(value)
        ? value
        : { problem: `must be one of ${spec.values!.join(', ')}, not ${JSON.stringify(value)}` };
    case 'integer':
    case 'size': {
      const number =
        spec.type === 'size'
          ? parseSize(value)
          : typeof value === 'number'
            ? value
            : /^-?\d+$/.test(String(value))
              ? Number(value)
              : NaN;
      if (!Number.isSafeInteger(number)) {
        return {
          problem: `must be ${spec.type === 'size' ? 'a size such as 16MiB or 16777216' : 'a whole number'}, not ${JSON.stringify(value)}`,
        };
      }
      if (spec.min !== undefined && number < spec.min) return { problem: `must be at least ${spec.min}` };
      if (spec.max !== undefined && number > spec.max) return { problem: `must be at most ${spec.max}` };
      return number;
    }
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: MiB,
  mb: 1e6,
  mib: MiB,
  g: 1024 * MiB,
  gb: 1e9,
  gib: 1024 * MiB,
};

/** `16MiB`, `4GiB`, `1024`…: a size in bytes, or NaN. */
export function parseSize(value: unknown): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(value));
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit ? Math.round(Number(match[1]) * unit) : NaN;
}

export function databaseFile(config: Config): string {
  return join(config.data, 'esp-ota.sqlite');
}
