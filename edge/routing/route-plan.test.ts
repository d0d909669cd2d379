import { describe, expect, it } from "vitest";
import type { Heartbeat, RegionConfig } from "../../contracts/region-protocol.ts";
import { greatCircleKm, type GeoPoint } from "./geo.ts";
import { distanceRttMs } from "./network-rtt.ts";
import { RegionDirectory } from "./region-directory.ts";
import type { RouteRequest } from "./route-plan.ts";
import { WORLD_CLIENTS, WORLD_REGIONS } from "../testing/world.ts";

const WORLD: RegionConfig[] = WORLD_REGIONS.map((r) => ({
  ...r,
  endpoint: `http://${r.name}.test`,
}));
const MODEL = "cppn-glove@1";

const heartbeat = (region: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  region,
  node_id: `${region}-1`,
  at: new Date().toISOString(),
  ready: true,
  draining: false,
  queue_depth: { fast: 0, standard: 0, relax: 0 },
  in_flight: 0,
  capacity: 4,
  throughput_per_s: 0,
  warm_models: [MODEL],
  failure_rate: 0,
  execution_provider: "cpu",
  service_ms_per_image: 200,
  ...over,
});

let now = 1_000_000;
function directory(regions: RegionConfig[] = WORLD, coldPenaltyMs = 5_000) {
  const d = new RegionDirectory(regions, {
    clock: () => now,
    model: { coldModelPenaltyMs: coldPenaltyMs },
  });
  for (const r of regions) d.observeHeartbeat(heartbeat(r.name));
  return d;
}
const request = (client: GeoPoint | null, over: Partial<RouteRequest> = {}): RouteRequest => ({
  client,
  colo: null,
  lane: "standard",
  model: MODEL,
  ...over,
});
const order = (d: RegionDirectory, r: RouteRequest) =>
  d.plan(r).candidates.map((c) => c.config.name);

describe("routing by expected completion", () => {
  it.each(WORLD_CLIENTS)(
    "a client in $city lands on its nearest region",
    ({ at: client, nearest }) => {
      const d = directory();
      const [first] = d.plan(request(client)).candidates;
      expect(first?.config.name).toBe(nearest);
      const byDistance = [...WORLD].sort(
        (a, b) => greatCircleKm(client, a) - greatCircleKm(client, b),
      );
      expect(byDistance[0]?.name).toBe(nearest);
      expect(first).toMatchObject({ state: "healthy", queueMs: 0, coldMs: 0 });
      expect(first?.rttMs).toBeCloseTo(distanceRttMs(client, first!.config), 6);
    },
  );

  describe("a loaded region against a farther idle one", () => {
    const paris = { lat: 48.85, lon: 2.35 };
    const pair = WORLD.filter((r) => r.name === "eu-west" || r.name === "us-east");
    const extraRtt =
      distanceRttMs(
        paris,
        pair.find((r) => r.name === "us-east")!,
      ) -
      distanceRttMs(
        paris,
        pair.find((r) => r.name === "eu-west")!,
      );

    it.each([
      ["keeps the nearer one while its wait is below the extra round trip", -1, "eu-west"],
      ["moves to the farther one once the wait exceeds it", +1, "us-east"],
    ])("%s", (_, offset, expected) => {
      const d = directory(pair);
      const waitMs = extraRtt + offset;
      d.observeHeartbeat(
        heartbeat("eu-west", {
          estimated_wait_ms: { fast: 0, standard: waitMs, relax: waitMs },
        }),
      );
      const plan = d.plan(request(paris));
      expect(plan.candidates[0]?.config.name).toBe(expected);
      const eu = plan.candidates.find((c) => c.config.name === "eu-west")!;
      expect(eu.queueMs).toBe(Math.round(waitMs));
      expect(eu.expectedMs).toBeCloseTo(eu.rttMs! + eu.queueMs, 6);
    });

    it("measures the wait from queue depth and service time when the node sends no estimate", () => {
      // Service 200 ms per image: 4 jobs ahead = 800 ms, far more than the ~82 ms extra.
      const d = directory(pair);
      d.observeHeartbeat(heartbeat("eu-west", { queue_depth: { fast: 1, standard: 3, relax: 9 } }));
      expect(order(d, request(paris))).toEqual(["us-east", "eu-west"]);
      // A fast job only waits behind the fast lane: 200 ms is still too much...
      expect(order(d, request(paris, { lane: "fast" }))).toEqual(["us-east", "eu-west"]);
      // ...but at 50 ms per image it is not.
      d.observeHeartbeat(
        heartbeat("eu-west", {
          queue_depth: { fast: 1, standard: 3, relax: 9 },
          service_ms_per_image: 50,
        }),
      );
      expect(order(d, request(paris, { lane: "fast" }))).toEqual(["eu-west", "us-east"]);
      expect(order(d, request(paris))).toEqual(["us-east", "eu-west"]);
    });
  });

  it("adds a cold-model penalty where the version is not warm", () => {
    const paris = { lat: 48.85, lon: 2.35 };
    const d = directory(WORLD, 5_000);
    d.observeHeartbeat(heartbeat("eu-west", { warm_models: ["cppn-glove@0"] }));
    const plan = d.plan(request(paris));
    expect(plan.candidates[0]?.config.name).toBe("us-east");
    expect(plan.candidates.find((c) => c.config.name === "eu-west")).toMatchObject({
      coldMs: 5_000,
    });
    // A small penalty does not outweigh an ocean.
    const cheap = directory(WORLD, 10);
    cheap.observeHeartbeat(heartbeat("eu-west", { warm_models: [] }));
    expect(order(cheap, request(paris))[0]).toBe("eu-west");
  });

  it("counts jobs it sent since the last heartbeat, until the next heartbeat shows them", () => {
    const paris = { lat: 48.85, lon: 2.35 };
    const d = directory(WORLD.filter((r) => r.name === "eu-west" || r.name === "us-east"));
    // Each job is 200 ms of work; the extra round trip to us-east is ~82 ms.
    d.recordAccepted("eu-west", "standard");
    expect(order(d, request(paris))[0]).toBe("us-east");
    // A standard job sent there does not delay a fast one.
    expect(order(d, request(paris, { lane: "fast" }))[0]).toBe("eu-west");
    // A heartbeat replayed from the regions table (no newer) does not clear the count...
    d.observeHeartbeat(heartbeat("eu-west"), now - 1_000);
    expect(order(d, request(paris))[0]).toBe("us-east");
    // ...a newer one does: it shows the job in its queue (or done).
    now += 2_000;
    d.observeHeartbeat(heartbeat("eu-west"));
    d.observeHeartbeat(heartbeat("us-east"));
    expect(order(d, request(paris))[0]).toBe("eu-west");
  });

  it("forgets jobs it sent after a while when no heartbeat comes to count them", () => {
    const paris = { lat: 48.85, lon: 2.35 };
    const d = directory(WORLD.filter((r) => r.name === "eu-west" || r.name === "us-east"));
    d.recordAccepted("eu-west", "standard");
    expect(order(d, request(paris))[0]).toBe("us-east");
    now += 5_001;
    expect(order(d, request(paris))[0]).toBe("eu-west");
  });

  it("learns round trips per colo from dispatches", () => {
    const paris = { lat: 48.85, lon: 2.35 };
    const d = directory(WORLD.filter((r) => r.name === "eu-west" || r.name === "us-east"));
    // From CDG, eu-west keeps answering in 400 ms (a bad path): after a few, us-east wins there.
    for (let i = 0; i < 6; i++) d.observeRtt("CDG", "eu-west", 400, paris);
    expect(order(d, request(paris, { colo: "CDG" }))[0]).toBe("us-east");
    expect(d.plan(request(paris, { colo: "CDG" })).candidates[1]?.rttMs).toBeGreaterThan(300);
    // Other colos are unaffected.
    expect(order(d, request(paris, { colo: "FRA" }))[0]).toBe("eu-west");
  });

  it("scores without a location from learned round trips, else by queue and configuration", () => {
    const d = directory(WORLD.slice(0, 3));
    expect(order(d, request(null))).toEqual(["us-east", "us-west", "sa-east"]);
    expect(d.plan(request(null)).candidates[0]?.rttMs).toBeNull();
    d.observeRtt("GRU", "sa-east", 3, null);
    d.observeRtt("GRU", "us-east", 30, null);
    d.observeRtt("GRU", "us-west", 20, null);
    expect(order(d, request(null, { colo: "GRU" }))).toEqual(["sa-east", "us-west", "us-east"]);
    // Without a colo a sample belongs to no place: nothing is learned from it.
    d.observeRtt(null, "us-west", 1, null);
    expect(order(d, request(null))).toEqual(["us-east", "us-west", "sa-east"]);
  });

  it("scores a region never heard from on distance alone: no queue, no cold penalty", () => {
    const d = new RegionDirectory(WORLD.slice(0, 2), { clock: () => now });
    d.observeHeartbeat(heartbeat("us-west", { warm_models: [] }));
    d.recordAccepted("us-east", "standard");
    const [east, west] = d.plan(request({ lat: 41.88, lon: -87.63 })).candidates;
    expect(east).toMatchObject({ state: "unknown", queueMs: 0, coldMs: 0 });
    expect(west).toMatchObject({ state: "healthy", coldMs: 5_000 });
  });

  it("tries stale regions after live ones, and regions whose breaker is open last", () => {
    const d = new RegionDirectory(WORLD.slice(0, 3), { clock: () => now, breakerThreshold: 1 });
    d.observeHeartbeat(heartbeat("us-east"), now - 60_000);
    d.observeHeartbeat(heartbeat("us-west"));
    d.observeHeartbeat(heartbeat("sa-east"));
    d.recordFailure("sa-east");
    // Chicago: us-east is nearest but stale, sa-east is tripped.
    const plan = d.plan(request({ lat: 41.88, lon: -87.63 }));
    expect(plan.candidates.map((c) => [c.config.name, c.state])).toEqual([
      ["us-west", "healthy"],
      ["us-east", "stale"],
      ["sa-east", "tripped"],
    ]);
  });

  it("lists skipped regions with their state, and never tries them", () => {
    const d = directory(WORLD.slice(0, 3));
    d.observeHeartbeat(heartbeat("us-west", { draining: true }));
    const plan = d.plan(request({ lat: 47.61, lon: -122.33 }, { exclude: new Set(["us-east"]) }));
    expect(plan.candidates.map((c) => c.config.name)).toEqual(["sa-east"]);
    expect(plan.skipped.map((c) => [c.config.name, c.state])).toEqual([
      ["us-east", "healthy"],
      ["us-west", "draining"],
    ]);
  });
});

describe("orderPlan", () => {
  it("keeps the configuration order among regions that score the same", () => {
    // Without a client location, every region is equally far: the configured order decides.
    const d = directory();
    expect(order(d, request(null))).toEqual(WORLD.map((r) => r.name));
    const reversed = directory([...WORLD].reverse());
    expect(order(reversed, request(null))).toEqual([...WORLD].reverse().map((r) => r.name));
  });
});
