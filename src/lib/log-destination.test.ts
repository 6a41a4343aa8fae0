import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BufferedLogDestination } from './log-destination.js';

describe('BufferedLogDestination', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-log-'));
  const file = join(dir, 'log.jsonl');
  let fd: number | undefined;
  afterEach(() => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    rmSync(file, { force: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds lines until the buffer fills or pino flushes, then writes them in order', () => {
    fd = openSync(file, 'w');
    const destination = new BufferedLogDestination(fd, { bufferSize: 300 });
    const logger = pino({ base: undefined, timestamp: false }, destination);
    logger.info({ n: 1 }, 'first');
    expect(readFileSync(file, 'utf8')).toBe('');
    for (let n = 2; n <= 10; n++) logger.info({ n }, 'more');
    const written = readFileSync(file, 'utf8');
    expect(written.length).toBeGreaterThanOrEqual(300); // the buffer filled at least once
    logger.flush();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { n: number });
    expect(lines.map((line) => line.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('finishes partial writes and waits out a full pipe instead of dropping lines', () => {
    const received: string[] = [];
    let calls = 0;
    const pauses: number[] = [];
    const destination = new BufferedLogDestination(99, {
      writeSync: (_fd, data, offset) => {
        calls++;
        if (calls === 2) throw Object.assign(new Error('try again'), { code: 'EAGAIN' });
        const end = Math.min(data.length, offset + 7); // a pipe takes a few bytes at a time
        received.push(data.subarray(offset, end).toString());
        return end - offset;
      },
      pause: (ms) => pauses.push(ms),
    });
    destination.write('{"a":"line one"}\n');
    destination.write('{"b":"line two"}\n');
    destination.flushSync();
    expect(received.join('')).toBe('{"a":"line one"}\n{"b":"line two"}\n');
    expect(pauses).toEqual([1]);
  });

  it('reports other write errors to the flush callback', () => {
    const destination = new BufferedLogDestination(99, {
      writeSync: () => {
        throw Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
      },
    });
    destination.write('x\n');
    let reported: Error | undefined;
    destination.flush((error) => (reported = error));
    expect(reported?.message).toBe('broken pipe');
    expect(() => {
      destination.write('y\n');
      destination.flushSync();
    }).toThrow('broken pipe');
  });
});
