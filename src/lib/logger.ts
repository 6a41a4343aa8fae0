import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The server's logger: JSON lines at `level` into `destination`. Secrets never reach the log: the headers that carry
 * credentials (people's and devices') are redacted wherever a request's headers are logged (fixed paths; wildcards
 * would cost every device check a deep traversal). Nothing logs request bodies or query strings.
 */
export function createLogger(level: string, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: ['authorization', 'cookie', 'x-ota-token'].flatMap((name) => [
        `req.headers["${name}"]`,
        `headers["${name}"]`,
      ]),
    },
    destination,
  );
}
