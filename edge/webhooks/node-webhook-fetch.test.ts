import type { lookup as dnsLookup, LookupAddress } from "node:dns";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodeWebhookFetch,
  publicOnlyLookup,
  UNUSABLE_HOST_MESSAGE,
} from "./node-webhook-fetch.ts";
import { shortError } from "./send-webhook.ts";

// A resolver with fixed answers stands in for DNS (the machine has no network): the guard itself
// runs as in production.
function fixedResolver(answers: Record<string, LookupAddress[]>): typeof dnsLookup {
  return ((
    hostname: string,
    _options: unknown,
    callback: (e: Error | null, a: LookupAddress[]) => void,
  ) => {
    const found = answers[hostname];
    if (!found) return callback(Object.assign(new Error("not found"), { code: "ENOTFOUND" }), []);
    callback(null, found);
  }) as unknown as typeof dnsLookup;
}

const resolver = fixedResolver({
  "public.example": [{ address: "93.184.216.34", family: 4 }],
  "rebind.example": [
    { address: "93.184.216.34", family: 4 },
    { address: "127.0.0.1", family: 4 },
  ],
  "loopback.example": [{ address: "127.0.0.1", family: 4 }],
});

const lookup = (host: string, all: boolean) =>
  new Promise<{ err: Error | null; address: unknown }>((resolve) =>
    publicOnlyLookup(resolver)(host, { all }, (err, address) => resolve({ err, address })),
  );

describe("publicOnlyLookup", () => {
  it("passes names that resolve only to public addresses", async () => {
    expect(await lookup("public.example", false)).toEqual({ err: null, address: "93.184.216.34" });
    const all = await lookup("public.example", true);
    expect(all.address).toEqual([{ address: "93.184.216.34", family: 4 }]);
  });

  it("refuses names with any private or loopback answer", async () => {
    for (const host of ["loopback.example", "rebind.example"]) {
      const { err } = await lookup(host, false);
      expect(err?.message).toBe(UNUSABLE_HOST_MESSAGE);
    }
  });

  it("answers an unknown name and a private one alike (no resolver oracle)", async () => {
    const unknown = await lookup("nxdomain.example", false);
    const private_ = await lookup("loopback.example", false);
    expect(unknown.err?.message).toBe(private_.err?.message);
    expect((unknown.err as NodeJS.ErrnoException).code).toBe(
      (private_.err as NodeJS.ErrnoException).code,
    );
    expect(private_.err?.message).not.toContain("127.0.0.1");
    expect(private_.err?.message).not.toContain("loopback.example");
  });
});

describe("createNodeWebhookFetch", () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("never connects to a name that resolves to loopback", async () => {
    const guarded = createNodeWebhookFetch({ resolve: resolver });
    const refused = await guarded(`http://loopback.example:${port}/`, { method: "POST" }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(hits).toBe(0);
    // What a delivery records (and the caller reads) names no address the resolver gave.
    expect(shortError(refused)).toContain(UNUSABLE_HOST_MESSAGE);
    expect(shortError(new Error("connect ECONNREFUSED 10.1.2.3:443"))).toBe(
      "connect ECONNREFUSED <address>",
    );
    expect(shortError(new Error("connect ECONNREFUSED [fd00::1]:443"))).not.toContain("fd00");
    // The same resolver without the guard does reach the server: the guard is what stops it.
    const unguarded = new Agent({ connect: { lookup: resolver as never } });
    const res = await undiciFetch(`http://loopback.example:${port}/`, { dispatcher: unguarded });
    expect(await res.text()).toBe("ok");
    expect(hits).toBe(1);
    await unguarded.close();
  });
});
