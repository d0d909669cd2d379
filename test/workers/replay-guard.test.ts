import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { deriveRegionKeySet } from "../../contracts/region-keys.ts";
import { signRequest } from "../../contracts/signing.ts";
import { DurableObjectNonceStore } from "../../edge/security/durable-object-nonce-store.ts";
import { idleHeartbeat } from "../../edge/testing/heartbeats.ts";
import { edge, errorOf } from "./helpers.ts";

// The replay guard on Workers: accepted signatures live in the region's ReplayGuard Durable Object
// (the real class from the Worker's entry, behind REPLAY_GUARD in wrangler.toml), so every isolate
// refuses a replay, not only the one that saw the original.

describe("ReplayGuard Durable Object", () => {
  it("answers a second sighting as a replay, to any isolate's store", async () => {
    const mac = crypto.randomUUID().replaceAll("-", "");
    const now = Date.now();
    // Two stores, as two isolates (or colos) would each build one.
    const here = new DurableObjectNonceStore(env.REPLAY_GUARD);
    const there = new DurableObjectNonceStore(env.REPLAY_GUARD);
    expect(await here.firstSighting("eu-west", mac, now)).toBe(true);
    expect(await there.firstSighting("eu-west", mac, now)).toBe(false);
    expect(await here.firstSighting("eu-west", mac, now)).toBe(false);
    // Another region's object: its own signatures.
    expect(await there.firstSighting("us-east", mac, now)).toBe(true);
  });

  it("forgets a signature only once it could no longer verify", async () => {
    const store = new DurableObjectNonceStore(env.REPLAY_GUARD, 1);
    const mac = crypto.randomUUID().replaceAll("-", "");
    // Signed 10 s ago under a 1 s tolerance: its window is over, so a sighting is a first one.
    expect(await store.firstSighting("eu-west", mac, Date.now() - 10_000)).toBe(true);
    expect(await store.firstSighting("eu-west", mac, Date.now() - 10_000)).toBe(true);
    // Inside its window it is kept.
    expect(await store.firstSighting("eu-west", mac, Date.now())).toBe(true);
    expect(await store.firstSighting("eu-west", mac, Date.now())).toBe(false);
  });

  it("makes the Worker refuse a replayed heartbeat", async () => {
    const path = REGION_PATHS.heartbeat("us-east");
    const body = JSON.stringify(idleHeartbeat("us-east", []));
    const key = (await deriveRegionKeySet(env.REGION_SIGNING_SECRET, "us-east")).current;
    const headers = {
      ...(await signRequest(key, { method: "POST", path, body })),
      "content-type": "application/json",
    };
    expect((await edge(path, { method: "POST", headers, body })).status).toBe(200);
    const replayed = await edge(path, { method: "POST", headers, body });
    expect(replayed.status).toBe(401);
    expect((await errorOf(replayed)).code).toBe("signature_replayed");
  });
});
