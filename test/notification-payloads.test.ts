import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CHANNELS, chunkPayloads } from '../src/db/notifications.js';
import { PG_SKIP_REASON, PG_URL } from './helpers/test-app.js';

const macs = Array.from({ length: 1_000 }, (_, i) => `240ac4${i.toString(16).padStart(6, '0')}`);

describe('issue 13 §3: device notifications stay under PostgreSQL’s payload limit', () => {
  it('splits a chunk of written devices into payloads under 8,000 bytes that name each MAC once', () => {
    const payloads = chunkPayloads('0123456789ab|', macs);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) {
      expect(Buffer.byteLength(payload)).toBeLessThan(8_000);
      expect(payload.startsWith('0123456789ab|')).toBe(true);
    }
    expect(payloads.flatMap((p) => p.slice(13).split(','))).toEqual(macs);
  });

  it.skipIf(!PG_URL)(`PostgreSQL delivers every payload whole ${PG_URL ? '' : PG_SKIP_REASON}`, async () => {
    const listener = new pg.Client({ connectionString: PG_URL });
    const sender = new pg.Client({ connectionString: PG_URL });
    await Promise.all([listener.connect(), sender.connect()]);
    try {
      const heard: string[] = [];
      listener.on('notification', (message) => heard.push(message.payload ?? ''));
      await listener.query(`LISTEN ${CHANNELS.devices}`);
      const payloads = chunkPayloads('0123456789ab|', macs);
      for (const payload of payloads) await sender.query('select pg_notify($1, $2)', [CHANNELS.devices, payload]);
      await listener.query('select 1'); // notifications arrive before the answer to a later query
      for (let i = 0; i < 50 && heard.length < payloads.length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(payloads);
      // One payload of all of them would be refused: the reason for the chunks.
      await expect(sender.query('select pg_notify($1, $2)', [CHANNELS.devices, `x|${macs.join(',')}`])).rejects.toThrow(
        /payload string too long/,
      );
    } finally {
      await Promise.all([listener.end(), sender.end()]);
    }
  });
});
