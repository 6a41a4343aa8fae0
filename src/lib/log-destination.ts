import { writeSync as fsWriteSync } from 'node:fs';

export interface LogDestinationOptions {
  /** Bytes (roughly: string length) buffered before they are written. */
  bufferSize?: number;
  /** For tests: the write system call and the pause before retrying a full pipe. */
  writeSync?: (fd: number, data: Buffer, offset: number) => number;
  pause?: (ms: number) => void;
}

/**
 * Where pino writes its lines: collected in memory and written with one synchronous system call per `bufferSize`,
 * or when flushed (the server flushes every 250 ms and on shutdown).
 *
 * Why not pino.destination (sonic-boom): it measures the byte length of its whole pending buffer on every line,
 * which at one line per device check cost about twice the serialisation itself (bench: npm run bench:devices).
 * Writes are synchronous like pino's default destination, so a line is never lost to a pending asynchronous write;
 * a full pipe (EAGAIN) is retried after a short pause rather than dropping lines.
 */
export class BufferedLogDestination {
  private lines: string[] = [];
  private size = 0;
  private readonly bufferSize: number;
  private readonly writeSync: (fd: number, data: Buffer, offset: number) => number;
  private readonly pause: (ms: number) => void;

  constructor(
    private readonly fd: number,
    options: LogDestinationOptions = {},
  ) {
    this.bufferSize = options.bufferSize ?? 64 * 1024;
    this.writeSync = options.writeSync ?? ((fd, data, offset) => fsWriteSync(fd, data, offset));
    this.pause = options.pause ?? sleep;
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= this.bufferSize) this.flushSync();
    return true;
  }

  /** pino's `logger.flush(callback)` lands here. */
  flush(callback?: (error?: Error) => void): void {
    try {
      this.flushSync();
      callback?.();
    } catch (error) {
      if (!callback) throw error;
      callback(error as Error);
    }
  }

  flushSync(): void {
    if (this.lines.length === 0) return;
    const data = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.size = 0;
    let offset = 0;
    let fullPipeRetries = 0;
    while (offset < data.length) {
      try {
        offset += this.writeSync(this.fd, data, offset);
        fullPipeRetries = 0;
      } catch (error) {
        // A pipe whose reader is behind (a log collector) refuses for a moment; wait for it, as pino's own does.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || ++fullPipeRetries > 1000) throw error;
        this.pause(1);
      }
    }
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
