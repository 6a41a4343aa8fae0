import proxyAddr from '@fastify/proxy-addr';

/** Decides whether the address at a hop of X-Forwarded-For (0: the socket) is a proxy whose word is taken. */
export type ProxyTrust = (address: string, hop: number) => boolean;

const LIST_HELP =
  'must be true, false or a comma-separated list of proxy addresses or CIDRs (e.g. 127.0.0.1,10.0.0.0/8; ' +
  'also loopback, linklocal, uniquelocal)';

/**
 * The `trustProxy` setting as a list of addresses and CIDRs: `true` is loopback only (a proxy on the same machine,
 * as in docs/deployment.md), `false` or nothing is none. Trusting every address would let any client name its own
 * address in X-Forwarded-For and so dodge the login limiter and fake device addresses.
 */
export function parseTrustedProxies(value: unknown): string[] | { problem: string } {
  if (value === true || value === 'true' || value === '1' || value === 'yes') return ['loopback'];
  if (value === false || value === 'false' || value === '0' || value === 'no' || value === '') return [];
  const entries =
    typeof value === 'string'
      ? value.split(',').map((entry) => entry.trim())
      : Array.isArray(value) && value.every((entry) => typeof entry === 'string')
        ? value.map((entry) => entry.trim())
        : undefined;
  if (!entries) return { problem: `${LIST_HELP}, not ${JSON.stringify(value)}` };
  try {
    if (entries.some((entry) => entry === '')) throw new Error('an empty entry');
    proxyAddr.compile(entries);
  } catch (error) {
    return { problem: `${LIST_HELP}; ${JSON.stringify(value)} has ${(error as Error).message}` };
  }
  return entries;
}

/** The trust function for Fastify and the device endpoint, or undefined when no proxy is trusted. */
export function proxyTrust(trusted: readonly string[]): ProxyTrust | undefined {
  return trusted.length > 0 ? proxyAddr.compile([...trusted]) : undefined;
}
