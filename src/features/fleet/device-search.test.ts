import { describe, expect, it } from 'vitest';
import type { DeviceView } from '../views.js';
import { sortDevices } from './device-search.js';

const device = (mac: string, version: string | null) => ({ mac, reported_version: version }) as DeviceView;

describe('sortDevices by version', () => {
  it('orders versions as the server compares them, not as text', () => {
    const devices = [
      device('a', '1.10.0'),
      device('b', '1.9.2'),
      device('c', null),
      device('d', '3d4085c-dirty'),
      device('e', 'v1.2.0'),
      device('f', '1.10.0-rc.1'),
      device('g', '1.2.0-3-gabc123'),
    ];
    const order = (descending: boolean) => sortDevices(devices, 'version', descending).map((d) => d.reported_version);
    expect(order(false)).toEqual([
      'v1.2.0',
      '1.2.0-3-gabc123',
      '1.9.2',
      '1.10.0-rc.1',
      '1.10.0',
      '3d4085c-dirty',
      null,
    ]);
    expect(order(true)).toEqual(['3d4085c-dirty', '1.10.0', '1.10.0-rc.1', '1.9.2', '1.2.0-3-gabc123', 'v1.2.0', null]);
  });
});
