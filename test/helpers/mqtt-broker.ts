import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

/** The machine's Mosquitto (127.0.0.1:1883). .ci/run starts it and sets ESP_OTA_REQUIRE_MQTT, so CI never skips. */
export const SHARED_BROKER = process.env.ESP_OTA_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const MOSQUITTO = process.env.ESP_OTA_MOSQUITTO ?? 'mosquitto';
export const MQTT_SKIP_REASON = `MQTT tests skipped: no broker at ${SHARED_BROKER} (apt-get install mosquitto; service mosquitto start)`;

/** Whether a broker answers at the URL (a CONNACK within two seconds). */
export async function brokerAnswers(url: string): Promise<boolean> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 2000 });
  const ok = await new Promise<boolean>((resolve) => {
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
  await client.endAsync(true);
  return ok;
}

export const MQTT_AVAILABLE = await brokerAnswers(SHARED_BROKER);
if (!MQTT_AVAILABLE && process.env.ESP_OTA_REQUIRE_MQTT) throw new Error(`${MQTT_SKIP_REASON}; CI must run them`);
export const MOSQUITTO_AVAILABLE = spawnSync(MOSQUITTO, ['-h']).error === undefined;
if (!MOSQUITTO_AVAILABLE && process.env.ESP_OTA_REQUIRE_MQTT)
  throw new Error(`no ${MOSQUITTO} to run a private broker (apt-get install mosquitto); CI must run the restart test`);

/** A listener on the broker that keeps every message per topic (retained ones as the broker replays them). */
export class TopicRecorder {
  readonly messages = new Map<string, { payload: string; retain: boolean }[]>();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const list = this.messages.get(topic) ?? [];
      list.push({ payload: payload.toString('utf8'), retain: packet.retain });
      this.messages.set(topic, list);
    });
  }

  static async connect(url: string, topics: string[]): Promise<TopicRecorder> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 500 });
    const recorder = new TopicRecorder(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return recorder;
  }

  last(topic: string): string | undefined {
    return this.messages.get(topic)?.at(-1)?.payload;
  }

  json<T = Record<string, unknown>>(topic: string): T | undefined {
    const text = this.last(topic);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  count(topic: string): number {
    return this.messages.get(topic)?.length ?? 0;
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Mosquitto of the test's own (no persistence: a restart loses every retained topic), to stop and start. */
export class PrivateBroker {
  private process: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(MOSQUITTO, ['-p', String(this.port)], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!(await brokerAnswers(this.url))) {
      if (Date.now() > until) throw new Error('the private mosquitto did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }
}
