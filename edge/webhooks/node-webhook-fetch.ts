import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { Agent, fetch as undiciFetch } from "undici";
import { isPublicAddress } from "./target-policy.ts";

// Node only: the fetch production webhooks go through. Every connection's DNS answer is checked
// before connecting, and the connection uses the checked address, so a public name that resolves
// (or is re-bound) to a private or loopback address is refused (SSRF). URL-level checks
// (target-policy.ts) already refuse IP literals, which never reach the resolver.

type Lookup = typeof dnsLookup;
type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The one error for a name that cannot be used: whether it did not resolve or resolved to a
 * private address, the message is the same, so a delivery's recorded error (which the caller
 * reads in webhook_deliveries) tells nothing about what this edge's resolver sees.
 */
export const UNUSABLE_HOST_MESSAGE = "webhook host does not resolve to a public address";

function unusableHost(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(UNUSABLE_HOST_MESSAGE);
  e.code = "ENOTFOUND";
  return e;
}

/** A `lookup` for net.connect that fails for names resolving to any non-public address. */
export function publicOnlyLookup(resolve: Lookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err || addresses.length === 0) return callback(unusableHost(), []);
      if (addresses.some((a) => !isPublicAddress(a.address))) {
        return callback(unusableHost(), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** fetch over a connection pool whose every connection passes publicOnlyLookup. */
export function createNodeWebhookFetch(opts: { resolve?: Lookup } = {}): typeof fetch {
  const agent = new Agent({ connect: { lookup: publicOnlyLookup(opts.resolve) } });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as string, {
      ...(init as object),
      dispatcher: agent,
    })) as unknown as typeof fetch;
}
