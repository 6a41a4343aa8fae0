/**
 * What `esp-ota` exits with, so scripts can tell a refusal from a typo from an outage. Documented in the README
 * ("Exit codes"); keep the two in step.
 */
export const EXIT = {
  ok: 0,
  /** The server (or the local database) refused or failed the request. */
  failed: 1,
  /** Wrong arguments or options, or a file named on the command line that cannot be read. */
  usage: 2,
  /** No server answered at the URL (or the database named could not be reached). */
  unreachable: 3,
  /** No API token, or one the server does not accept, or one whose role may not do this. */
  auth: 4,
} as const;

/** An error whose message is meant for the person at the terminal, with the exit code it ends the command with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
