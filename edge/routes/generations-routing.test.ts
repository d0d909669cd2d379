import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { distanceRttMs } from "../routing/network-rtt.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverHeartbeat, idleHeartbeat } from "../testing/heartbeats.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { TEST_MODEL } from "../testing/seed.ts";
import { WORLD_CLIENTS, WORLD_REGIONS } from "../testing/world.ts";

// POST /v1/generations routed over simulated geography: real signed region stand-ins placed on
// six continents, clients placed by the development location headers, heartbeats posted signed.

const SECRET = TEST_SECRETS.regionSigning;
const WARM = [`${TEST_MODEL.name}@${TEST_MODEL.version}`];
const regions = new Map<string, RegionStandIn>();
let f: EdgeFixture;

beforeAll(async () => {
  for (const r of WORLD_REGIONS) {
    regions.set(r.name, await startRegionStandIn({ ...r, secret: SECRET }));
  }
  f = await createEdgeFixture({ regions: [...regions.values()].map((r) => r.config) });
});
afterAll(async () => {
  await f?.close();
  await Promise.all([...regions.values()].map((r) => r.close()));
});

let beatAt = Date.now();
/** Every region idle and warm, then `over` per region: each a newer heartbeat than the last. */
async function heartbeats(over: Record<string, Parameters<typeof idleHeartbeat>[2]> = {}) {
  // A heartbeat replaces what the edge counted since the previous one only if it is newer.
  while (Date.now() <= beatAt) await new Promise((resolve) => setTimeout(resolve, 1));
  beatAt = Date.now();
  for (const { name } of WORLD_REGIONS) {
    const res = await deliverHeartbeat(f.app, SECRET, idleHeartbeat(name, WARM, over[name]));
    expect(res.status).toBe(200);
  }
}

let requests = 0;
async function generate(client: { lat: number; lon: number }, colo: string) {
  requests += 1;
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt: `routing probe ${requests}`, width: 64, height: 64 },
    headers: {
      "x-client-lat": String(client.lat),
      "x-client-lon": String(client.lon),
      "x-client-colo": colo,
    },
  });
  expect(res.status).toBe(202);
  return Generation.parse(await res.json());
}

describe("routing by expected completion, through the app", () => {
  it.each(WORLD_CLIENTS)("sends a client in $city to $nearest", async ({ at, colo, nearest }) => {
    await heartbeats();
    const generation = await generate(at, colo);
    expect(generation.region).toBe(nearest);
    expect(regions.get(nearest)!.jobs.map((j) => j.job_id)).toContain(generation.id);
    // The decision is the caller's to see: every region scored, the chosen one first.
    const routing = generation.routing!;
    expect(routing).toMatchObject({ region: nearest, job_id: generation.id });
    expect(routing.candidates).toHaveLength(WORLD_REGIONS.length);
    expect(routing.candidates[0]).toMatchObject({
      region: nearest,
      state: "healthy",
      outcome: "accepted",
      queue_ms: 0,
      cold_ms: 0,
    });
    expect(routing.candidates.slice(1).every((c) => c.outcome === "not_tried")).toBe(true);
    const expected = routing.candidates.map((c) => c.expected_ms);
    expect(expected).toEqual([...expected].sort((a, b) => a - b));
  });

  describe("a loaded region against a farther idle one", () => {
    const paris = WORLD_CLIENTS.find((c) => c.city === "Paris")!.at;
    const eu = WORLD_REGIONS.find((r) => r.name === "eu-west")!;
    const us = WORLD_REGIONS.find((r) => r.name === "us-east")!;
    const extraRttMs = distanceRttMs(paris, us) - distanceRttMs(paris, eu);

    it.each([
      ["stays when the wait is just below the extra round trip", -1, "eu-west"],
      ["moves when the wait is just above it", +1, "us-east"],
    ])("%s", async (_, offset, expected) => {
      const waitMs = extraRttMs + offset;
      await heartbeats({
        "eu-west": { estimated_wait_ms: { fast: 0, standard: waitMs, relax: waitMs } },
      });
      // A colo of its own: no round trips learned from earlier tests.
      const generation = await generate(paris, `P${offset > 0 ? "UP" : "DN"}`);
      expect(generation.region).toBe(expected);
      const scored = Object.fromEntries(generation.routing!.candidates.map((c) => [c.region, c]));
      expect(scored["eu-west"]).toMatchObject({
        queue_ms: Math.round(waitMs),
        rtt_ms: Math.round(distanceRttMs(paris, eu)),
      });
      expect(scored["us-east"]).toMatchObject({ queue_ms: 0 });
    });
  });

  it("steers clear of a region where the model is cold when that costs more than the trip", async () => {
    await heartbeats({ "eu-west": { warm_models: [] } });
    const generation = await generate({ lat: 48.85, lon: 2.35 }, "COLD");
    expect(generation.region).toBe("us-east");
    expect(generation.routing!.candidates.find((c) => c.region === "eu-west")).toMatchObject({
      cold_ms: 5_000,
      outcome: "not_tried",
    });
  });

  it("records why a generation no region took failed: every region busy", async () => {
    await heartbeats();
    for (const r of regions.values()) r.mode = { kind: "busy", status: 503, retryAfterS: 2 };
    try {
      const res = await f.call("/v1/generations", {
        method: "POST",
        json: { prompt: "nobody home", width: 64, height: 64 },
        headers: { "x-client-lat": "48.85", "x-client-lon": "2.35", "x-client-colo": "BUSY" },
      });
      expect(res.status).toBe(503);
      const [failed] = (await (await f.call("/v1/generations?limit=1")).json()).data;
      const generation = Generation.parse(failed);
      expect(generation).toMatchObject({ status: "failed", region: null });
      expect(generation.routing?.region).toBeNull();
      expect(generation.routing?.candidates.map((c) => c.outcome)).toEqual(
        WORLD_REGIONS.map(() => "busy"),
      );
      expect(generation.routing?.candidates[0]?.region).toBe("eu-west");
    } finally {
      for (const r of regions.values()) r.mode = { kind: "accept" };
    }
  });

  it("keeps the routing on the stored generation", async () => {
    await heartbeats();
    const created = await generate({ lat: -37.81, lon: 144.96 }, "MEL");
    const read = Generation.parse(await (await f.call(`/v1/generations/${created.id}`)).json());
    expect(read.routing).toEqual(created.routing);
  });
});
