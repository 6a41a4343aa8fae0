import mqtt, { type MqttClient } from 'mqtt';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  /** PEM CA certificates for mqtts:// (undefined: the system's). */
  ca: Buffer | undefined;
  clientId: string;
  /** Retained `online` once connected; the broker's will sets it to `offline` when this server goes away. */
  availabilityTopic: string;
  /** Messages kept while the broker is out of reach; the oldest beyond it are dropped and counted. */
  queueLimit: number;
  /** The first reconnect waits this long, each failure doubles it up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

export interface MqttLinkStatus {
  connected: boolean;
  /** When the link last connected or lost its connection (ms), 0 before either. */
  since: number;
  /** Why the last attempt failed (the error's code or message; never the credentials, which MQTT.js does not put there). */
  lastError: string | undefined;
  queued: number;
  published: number;
  dropped: number;
}

interface Outgoing {
  topic: string;
  payload: string;
  retain: boolean;
}

/**
 * The connection to the broker (MQTT.js): reconnects with a growing delay, and never lets a caller wait for it.
 * `publish` sends at once while connected; otherwise the message waits in a bounded queue (a retained topic keeps
 * only its newest message) that is sent on reconnect, and what falls off the queue is counted as dropped.
 */
export class MqttLink {
  private client: MqttClient | undefined;
  private readonly queue = new Map<string, Outgoing>();
  private sequence = 0;
  private readonly status: MqttLinkStatus = {
    connected: false,
    since: 0,
    lastError: undefined,
    queued: 0,
    published: 0,
    dropped: 0,
  };
  private closing = false;
  /** Called on every (re)connect, after the queue was sent: a broker that restarted may have lost retained topics. */
  onConnect: () => void = () => undefined;
  onMessage: (topic: string, payload: Buffer) => void = () => undefined;
  private readonly subscriptions: string[] = [];

  constructor(
    private readonly options: MqttLinkOptions,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const first = this.options.reconnectMs ?? 1000;
    const client = mqtt.connect(this.options.url, {
      clientId: this.options.clientId,
      ...(this.options.username ? { username: this.options.username } : {}),
      ...(this.options.password ? { password: this.options.password } : {}),
      ...(this.options.ca ? { ca: this.options.ca } : {}),
      clean: true,
      reconnectPeriod: first,
      connectTimeout: 10_000,
      // Nothing waits in MQTT.js's own (unbounded) offline queue: `publish` only hands it messages while connected.
      queueQoSZero: false,
      will: { topic: this.options.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      client.options.reconnectPeriod = first;
      this.status.connected = true;
      this.status.since = this.now();
      this.status.lastError = undefined;
      client.publish(this.options.availabilityTopic, 'online', { qos: 1, retain: true });
      if (this.subscriptions.length) client.subscribe(this.subscriptions, { qos: 1 });
      const waiting = [...this.queue.values()];
      this.queue.clear();
      for (const message of waiting) this.send(message);
      this.onConnect();
    });
    client.on('close', () => {
      if (this.status.connected) this.status.since = this.now();
      this.status.connected = false;
      const max = this.options.maxReconnectMs ?? 30_000;
      client.options.reconnectPeriod = Math.min(max, Math.max(first, (client.options.reconnectPeriod ?? first) * 2));
    });
    client.on('error', (err: Error & { code?: string | number }) => {
      this.status.lastError = typeof err.code === 'string' ? err.code : err.message.slice(0, 200);
    });
    client.on('message', (topic, payload) => {
      if (!this.closing) this.onMessage(topic, payload);
    });
  }

  /** Subscribes now (when connected) and after every reconnect. */
  subscribe(topic: string): void {
    this.subscriptions.push(topic);
    if (this.status.connected) this.client?.subscribe(topic, { qos: 1 });
  }

  publish(topic: string, payload: string, retain: boolean): void {
    const message = { topic, payload, retain };
    if (this.status.connected && this.client?.connected) {
      this.send(message);
      return;
    }
    const key = retain ? `r:${topic}` : `e:${this.sequence++}`;
    this.queue.delete(key);
    this.queue.set(key, message);
    while (this.queue.size > this.options.queueLimit) {
      this.queue.delete(this.queue.keys().next().value!);
      this.status.dropped++;
    }
  }

  get connected(): boolean {
    return this.status.connected;
  }

  snapshot(): MqttLinkStatus {
    return { ...this.status, queued: this.queue.size };
  }

  /** Says `offline` (a clean disconnect sends no will) and disconnects; waits at most a second for the broker. */
  async close(): Promise<void> {
    this.closing = true;
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await Promise.race([
        client.publishAsync(this.options.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    }
    await client.endAsync(true);
  }

  private send(message: Outgoing): void {
    this.status.published++;
    this.client!.publish(message.topic, message.payload, { qos: 1, retain: message.retain }, () => undefined);
  }
}
