import { describe, expect, it } from 'vitest';
import { analyzeImage } from './index.js';
import { identify } from './identify.js';
import { PlatformNameIndex } from './platform-names.js';
import { buildEsp32App, buildEsp8266App } from '../../test/synthetic/image-builder.js';

function identifySketch(strings: string[], platforms: string[] = [], explicit = {}) {
  const bytes = buildEsp8266App({ strings });
  return identify(bytes, analyzeImage(bytes), { platforms, explicit });
}

describe('identity of Arduino sketches', () => {
  it('reads the explicit ESP-OTA marker', () => {
    const identity = identifySketch(['lib v9.9.9', 'ESP-OTA:platform=AirPatrol;version=1.4.0', 'other 2.0.0']);
    expect(identity.platform).toMatchObject({ status: 'found', value: 'AirPatrol', source: 'marker' });
    expect(identity.version).toMatchObject({ status: 'found', value: '1.4.0', source: 'marker' });
  });

  it('reads the original server’s update URL convention', () => {
    const identity = identifySketch(['http://ota.local/update?dev=AirPatrol&ver=v2.1.0'], ['airpatrol']);
    expect(identity.platform).toMatchObject({ status: 'found', value: 'airpatrol', source: 'marker' });
    expect(identity.version).toMatchObject({ status: 'found', value: 'v2.1.0', source: 'marker' });
  });

  it('matches platform names as whole tokens only: chase is not in chaser', () => {
    const identity = identifySketch(['the chaser effect', 'v1.0.0'], ['chase']);
    expect(identity.platform.status).toBe('missing');
  });

  it('treats names with regex characters as literal text', () => {
    const identity = identifySketch(['Lamp.v2+ (kitchen) 3.1.4', 'LampXv2+ (kitchen)'], ['Lamp.v2+ (kitchen)', 'a.*b']);
    expect(identity.platform).toMatchObject({ status: 'found', value: 'Lamp.v2+ (kitchen)' });
    expect(identity.version).toMatchObject({ status: 'found', value: '3.1.4', source: 'next-to-platform' });
    expect(identity.platform.candidates.map((c) => c.value)).not.toContain('a.*b');
  });

  it('matches names case-insensitively and reports the stored spelling', () => {
    const identity = identifySketch(['AIRPATROL firmware 1.2.3'], ['AirPatrol']);
    expect(identity.platform).toMatchObject({ status: 'found', value: 'AirPatrol' });
  });

  it('finds calendar versions and pre-release suffixes next to the platform name', () => {
    expect(identifySketch(['AirPatrol 2024.10.2'], ['AirPatrol']).version.value).toBe('2024.10.2');
    expect(identifySketch(['AirPatrol/v1.2.3-rc.1+build.5'], ['AirPatrol']).version.value).toBe('v1.2.3-rc.1+build.5');
    expect(identifySketch(['AirPatrol version: 3.0.0-4-gabc1234'], ['AirPatrol']).version.value).toBe(
      '3.0.0-4-gabc1234',
    );
  });

  it('asks with every candidate when nothing singles one out', () => {
    const identity = identifySketch(['Starting 1.2.3', 'protocol 4.5.6']);
    expect(identity.version.status).toBe('ambiguous');
    expect(identity.version.value).toBeUndefined();
    expect(identity.version.candidates.map((c) => c.value).sort()).toEqual(['1.2.3', '4.5.6']);
  });

  it('asks when two markers disagree', () => {
    const identity = identifySketch(['ESP-OTA:version=1.0.0', 'ESP-OTA:version=2.0.0']);
    expect(identity.version.status).toBe('ambiguous');
  });

  it('ignores SDK, IDF and library banners', () => {
    const identity = identifySketch([
      '2.2.2-dev(38a443e)',
      'esp-idf: v4.4.4 e8bdaf9198',
      'FreeRTOS/10.4.3',
      'lwIP 2.1.2',
      '192.168.4.1',
    ]);
    expect(identity.version).toMatchObject({ status: 'missing', candidates: [] });
  });

  it('lets explicit values win and reports a contradiction with a marker', () => {
    const identity = identifySketch(['ESP-OTA:platform=AirPatrol;version=1.4.0'], [], {
      version: '1.5.0',
      platform: 'Other',
    });
    expect(identity.version).toMatchObject({ value: '1.5.0', source: 'explicit' });
    expect(identity.platform).toMatchObject({ value: 'Other', source: 'explicit' });
    expect(identity.conflicts).toHaveLength(1);
    expect(identity.conflicts[0]).toContain('1.4.0');
  });
});

describe('identity of ESP-IDF apps', () => {
  it('uses the descriptor and matches the project to a known platform case-insensitively', () => {
    const bytes = buildEsp32App({ descriptor: { projectName: 'airpatrol', version: '3d4085c-dirty' } });
    const identity = identify(bytes, analyzeImage(bytes), { platforms: new PlatformNameIndex(['AirPatrol']) });
    expect(identity.platform).toMatchObject({ status: 'found', value: 'AirPatrol', source: 'descriptor' });
    expect(identity.version).toMatchObject({ status: 'found', value: '3d4085c-dirty', source: 'descriptor' });
  });

  it('reports an explicit version that contradicts the descriptor', () => {
    const bytes = buildEsp32App({ descriptor: { projectName: 'AirPatrol', version: '1.0.0' } });
    const identity = identify(bytes, analyzeImage(bytes), { explicit: { version: '1.1.0' } });
    expect(identity.version.value).toBe('1.1.0');
    expect(identity.conflicts.join()).toContain('devices running it will report "1.0.0"');
  });

  it('looks past the Arduino core descriptor into the sketch', () => {
    const bytes = buildEsp32App({
      descriptor: { projectName: 'arduino-lib-builder', version: 'esp-idf: v4.4.7 38eeba213a', idfVersion: 'v4.4.7' },
      rodata: '\0ESP-OTA:platform=Greenhouse;version=0.9.1\0v4.4.7\0',
    });
    const identity = identify(bytes, analyzeImage(bytes));
    expect(identity.platform).toMatchObject({ status: 'found', value: 'Greenhouse', source: 'marker' });
    expect(identity.version).toMatchObject({ status: 'found', value: '0.9.1' });
    expect(identity.version.candidates.map((c) => c.value)).toEqual(['0.9.1']);
  });
});
