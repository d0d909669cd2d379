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

/** A `lookup` for net.connect that fails for names resolving to any non-public address. */
export function publicOnlyLookup(resolve: Lookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          `webhook host ${hostname} resolves to a non-public address`,
        );
        e.code = "ENOTFOUND";
        return callback(e, []);
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
