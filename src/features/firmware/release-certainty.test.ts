import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../firmware-image/index.js';
import { identify } from '../../firmware-image/identify.js';
import { buildEsp32App, buildEsp8266App } from '../../../test/synthetic/image-builder.js';
import { projectContradicts, projectKey, uncertainty } from './release-certainty.js';

function judge(bytes: Buffer, platformName: string, releasedVersion?: string, explicitVersion?: string) {
  const analysis = analyzeImage(bytes);
  const identity = identify(bytes, analysis, {
    platforms: [platformName],
    explicit: { platform: platformName, version: explicitVersion },
  });
  const version = identity.version.value!;
  return uncertainty({ identity, analysis, version, platformName, releasedVersion })?.code ?? 'certain';
}

const esp32 = (projectName: string, version: string) => buildEsp32App({ descriptor: { projectName, version } });
const sketch = (...strings: string[]) => buildEsp8266App({ strings });

describe('certain uploads (issue 12 §1)', () => {
  it.each([
    ['descriptor, matching project, nothing released', esp32('pump', '1.0.0'), 'Pump', undefined, undefined, 'certain'],
    ['descriptor, newer than released', esp32('pump', '1.1.0'), 'pump', '1.0.0', undefined, 'certain'],
    [
      'descriptor, git describe after the tag',
      esp32('pump', 'v1.0.0-3-gabc1234'),
      'pump',
      '1.0.0',
      undefined,
      'certain',
    ],
    ['descriptor, same version', esp32('pump', '1.0.0'), 'pump', 'v1.0.0', undefined, 'not-newer'],
    ['descriptor, older', esp32('pump', '0.9.0'), 'pump', '1.0.0', undefined, 'not-newer'],
    ['descriptor, released one unorderable', esp32('pump', '1.0.0'), 'pump', '3d4085c', undefined, 'not-newer'],
    ['descriptor, unorderable', esp32('pump', '3d4085c-dirty'), 'pump', undefined, undefined, 'version-unorderable'],
    ['descriptor, other project', esp32('simple_ota', '2.0.0'), 'OpenDTU', '1.0.0', undefined, 'project-forced'],
    ['descriptor, same version given', esp32('pump', '1.2.0'), 'pump', '1.0.0', 'v1.2.0', 'certain'],
    ['descriptor, another version given', esp32('pump', '1.2.0'), 'pump', '1.0.0', '1.3.0', 'version-given'],
    ['marker', sketch('ESP-OTA:platform=Plug;version=2.0.0'), 'Plug', '1.0.0', undefined, 'certain'],
    ['update URL', sketch('http://h/u?dev=Plug&ver=2.0.0'), 'Plug', '1.0.0', undefined, 'certain'],
    ['next to the platform name', sketch('"model":"Plug v2.0.0"'), 'Plug', '1.0.0', undefined, 'version-inferred'],
    ['given by the uploader', sketch('plain'), 'Plug', undefined, '2.0.0', 'version-given'],
  ])('%s → %s', (_what, bytes, platform, released, explicit, code) => {
    expect(judge(bytes, platform, released, explicit)).toBe(code);
  });

  it('ignores case and the separators - _ . and spaces in project names; the Arduino core’s project names nothing', () => {
    expect(projectKey('Garden Pump')).toBe(projectKey('garden_pump'));
    expect(projectKey('OpenDTU-OnBattery')).toBe(projectKey('opendtu.onbattery'));
    expect(projectContradicts(analyzeImage(esp32('garden_pump', '1')), 'Garden-Pump')).toBe(false);
    expect(projectContradicts(analyzeImage(esp32('arduino-lib-builder', '1')), 'Anything')).toBe(false);
    expect(projectContradicts(analyzeImage(esp32('', '1')), 'Anything')).toBe(false);
    expect(projectContradicts(analyzeImage(esp32('simple_ota', '1')), 'OpenDTU')).toBe(true);
  });
});
