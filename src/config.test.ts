import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'esp-ota-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', uploadLimit: 16 * 1024 * 1024, databaseUrl: '' });
    expect(config.data).toMatch(/\/data$/);
  });

  it('layers YAML ← environment ← flags', () => {
    const yaml = file('layers.yaml', 'port: 9000\nuploadLimit: 8MiB\nlogLevel: warn\n');
    const config = loadConfig({
      file: yaml,
      env: { ESP_OTA_PORT: '9100', ESP_OTA_LOG_LEVEL: 'debug' },
      flags: { logLevel: 'error' },
    });
    expect(config).toMatchObject({ port: 9100, uploadLimit: 8 * 1024 * 1024, logLevel: 'error' });
  });

  it('lists every problem at once, saying where each came from', () => {
    const yaml = file('bad.yaml', 'port: 99999\nimageCache: lots\nbogus: 1\n');
    const found = problems(() =>
      loadConfig({ file: yaml, env: { ESP_OTA_TRUST_PROXY: 'maybe', ESP_OTA_DATABASE_URL: 'mysql://x' } }),
    );
    expect(found).toHaveLength(5);
    expect(found.join('\n')).toMatch(/bogus/);
    expect(found.join('\n')).toMatch(/port: must be at most 65535/);
    expect(found.join('\n')).toMatch(/ESP_OTA_TRUST_PROXY: must be true, false or a comma-separated list/);
    expect(found.join('\n')).toMatch(/only postgres:\/\//);
  });

  it('issue 11: reads trustProxy as true (loopback only), false, or a list of addresses and CIDRs', () => {
    const trustProxy = (value: string | boolean | string[]) =>
      loadConfig({ env: {}, file: file('proxy.yaml', `trustProxy: ${JSON.stringify(value)}\n`) }).trustProxy;
    expect(loadConfig({ env: {} }).trustProxy).toEqual([]);
    expect(trustProxy(true)).toEqual(['loopback']);
    expect(trustProxy('true')).toEqual(['loopback']);
    expect(trustProxy(false)).toEqual([]);
    expect(trustProxy('false')).toEqual([]);
    expect(trustProxy(' 10.0.0.1, 192.168.0.0/16,::1 ,loopback')).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
      '::1',
      'loopback',
    ]);
    expect(trustProxy(['172.16.0.0/12', 'uniquelocal'])).toEqual(['172.16.0.0/12', 'uniquelocal']);
    for (const bad of ['maybe', '10.0.0.1, nginx', '10.0.0.0/33', '*', '10.0.0.1,,']) {
      expect(
        problems(() => loadConfig({ env: { ESP_OTA_TRUST_PROXY: bad } })),
        bad,
      ).toEqual([expect.stringMatching(/^ESP_OTA_TRUST_PROXY: must be true, false or a comma-separated list/)]);
    }
  });

  it('reports broken YAML and a file that is not a mapping', () => {
    expect(problems(() => loadConfig({ file: file('broken.yaml', 'port: [1, 2\n'), env: {} }))[0]).toMatch(
      /broken\.yaml/,
    );
    expect(problems(() => loadConfig({ file: file('list.yaml', '- a\n- b\n'), env: {} }))[0]).toMatch(
      /must be a YAML mapping/,
    );
    expect(problems(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }))[0]).toMatch(/ENOENT|no such file/);
  });
});

describe('MQTT settings (issue 16)', () => {
  it('is off by default, and takes the broker, credentials and prefixes from the environment', () => {
    expect(loadConfig({ env: {} }).mqttUrl).toBe('');
    const config = loadConfig({
      env: {
        ESP_OTA_MQTT_URL: 'mqtts://broker.lan:8883',
        ESP_OTA_MQTT_USERNAME: 'ota',
        ESP_OTA_MQTT_PASSWORD: 'pw',
        ESP_OTA_MQTT_TOPIC_PREFIX: 'home/ota',
      },
    });
    expect(config).toMatchObject({
      mqttUrl: 'mqtts://broker.lan:8883',
      mqttUsername: 'ota',
      mqttTopicPrefix: 'home/ota',
    });
  });

  it('refuses credentials in the URL without repeating them, and prefixes that are not plain topic levels', () => {
    let error: unknown;
    try {
      loadConfig({
        env: {
          ESP_OTA_MQTT_URL: 'mqtt://ota:hunter2-secret@broker.lan',
          ESP_OTA_MQTT_TOPIC_PREFIX: 'ota/#',
          ESP_OTA_MQTT_DISCOVERY_PREFIX: '/homeassistant',
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('mqttUsername and mqttPassword');
    expect(problems.join('\n')).not.toContain('hunter2-secret');
    expect(() => loadConfig({ env: { ESP_OTA_MQTT_URL: 'http://broker.lan' } })).toThrow(/mqtt:\/\/host/);
  });
});
