import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The server's logger: JSON lines at `level` into `destination`. Secrets never reach the log: the header paths are
 * redacted (fixed paths; wildcards would cost every device check a deep traversal).
 */
export function createLogger(level: string, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
    },
    destination,
  );
}
