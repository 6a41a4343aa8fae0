import { Counter, Gauge, type Registry } from 'prom-client';
import type { MqttLinkStatus } from '../mqtt/mqtt-link.js';

/**
 * The MQTT link, read at scrape time: connected or not, messages waiting for the broker, published, and dropped
 * (the queue was full while the broker was out of reach). No labels: nothing in them comes from clients.
 */
export function registerMqttMetrics(registry: Registry, status: () => MqttLinkStatus): void {
  new Gauge({
    name: 'esp_ota_mqtt_connected',
    help: 'Whether the server is connected to its MQTT broker (1) or not (0)',
    registers: [registry],
    collect() {
      this.set(status().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'esp_ota_mqtt_queued_messages',
    help: 'MQTT messages waiting for the broker',
    registers: [registry],
    collect() {
      this.set(status().queued);
    },
  });
  const counted = (name: string, help: string, read: (s: MqttLinkStatus) => number) => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read(status());
        this.inc(now - reported);
        reported = now;
      },
    });
  };
  counted('esp_ota_mqtt_published_total', 'MQTT messages handed to the broker', (s) => s.published);
  counted(
    'esp_ota_mqtt_dropped_total',
    'MQTT messages dropped because the queue was full while the broker was out of reach',
    (s) => s.dropped,
  );
}
