import type { ServerResponse } from 'node:http';

interface ShortAnswer {
  response: ServerResponse;
  status: number;
  headers: Record<string, string>;
  body: Buffer | undefined;
  written: () => void;
}

/**
 * Short answers (no large body) produced during one turn of the event loop, written together at its end.
 *
 * Why: on a busy server several requests are read in one turn. Written one by one as each is decided, every write
 * may find its client asleep and pay to wake it (on loopback and in virtual machines, a cross-CPU wake-up costs more
 * than the write itself); written back to back, the first wakes the client and the rest find it running. The delay
 * is at most the rest of the current turn. Measured with bench/device-checks.bench.ts (see docs/architecture.md).
 */
export class ResponseBatch {
  private pending: ShortAnswer[] = [];

  constructor(private readonly log: { error(object: unknown, message: string): void }) {}

  add(
    response: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer | undefined,
    written: () => void,
  ): void {
    this.pending.push({ response, status, headers, body, written });
    if (this.pending.length === 1) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const answers = this.pending;
    this.pending = [];
    for (const answer of answers) {
      try {
        answer.response.writeHead(answer.status, answer.headers);
        answer.response.end(answer.body);
      } catch (error) {
        // One bad answer (say, a header value Node refuses) must not keep the others from being sent.
        this.log.error({ err: error }, 'could not write a device answer');
        answer.response.destroy();
      }
      answer.written();
    }
  };
}
