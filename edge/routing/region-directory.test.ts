import { describe, expect, it } from "vitest";
import type { Heartbeat, RegionConfig } from "../../contracts/region-protocol.ts";
import { RegionDirectory } from "./region-directory.ts";

const REGIONS: RegionConfig[] = [
  { name: "us-east", endpoint: "http://us-east.test", lat: 39.04, lon: -77.49 },
  { name: "eu-west", endpoint: "http://eu-west.test", lat: 53.35, lon: -6.26 },
  { name: "ap-southeast", endpoint: "http://ap-southeast.test", lat: 1.35, lon: 103.82 },
];
const PARIS = { lat: 48.85, lon: 2.35 };
const CHICAGO = { lat: 41.88, lon: -87.63 };
const TOKYO = { lat: 35.68, lon: 139.69 };

const heartbeat = (region: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  region,
  node_id: `${region}-node-1`,
  at: new Date().toISOString(),
  ready: true,
  draining: false,
  queue_depth: { fast: 0, standard: 0, relax: 0 },
  in_flight: 0,
  capacity: 4,
  throughput_per_s: 2,
  warm_models: ["cppn-glove@1"],
  failure_rate: 0,
  execution_provider: "cpu",
  ...over,
});

function setup(opts: ConstructorParameters<typeof RegionDirectory>[1] = {}) {
  let now = 1_000_000;
  const directory = new RegionDirectory(REGIONS, { clock: () => now, ...opts });
  return { directory, advance: (ms: number) => (now += ms), now: () => now };
}
const names = (rs: RegionConfig[]) => rs.map((r) => r.name);

describe("RegionDirectory.rank", () => {
  it.each([
    ["Europe", PARIS, ["eu-west", "us-east", "ap-southeast"]],
    ["US", CHICAGO, ["us-east", "eu-west", "ap-southeast"]],
    ["Asia", TOKYO, ["ap-southeast", "eu-west", "us-east"]],
  ])("puts the nearest region first for a client in %s", (_, client, expected) => {
    const { directory } = setup();
    expect(names(directory.rank(client))).toEqual(expected);
  });

  it("uses configuration order when the client's location is unknown", () => {
    expect(names(setup().directory.rank(null))).toEqual(["us-east", "eu-west", "ap-southeast"]);
  });

  it("treats never-heard-from regions as tryable (cold start) alongside healthy ones", () => {
    const { directory } = setup();
    directory.observeHeartbeat(heartbeat("ap-southeast"));
    expect(directory.health("ap-southeast")).toBe("healthy");
    expect(directory.health("eu-west")).toBe("unknown");
    expect(names(directory.rank(PARIS))).toEqual(["eu-west", "us-east", "ap-southeast"]);
  });

  it("moves a region whose heartbeats stopped to the end (last resort)", () => {
    const { directory, advance } = setup({ heartbeatTtlMs: 10_000 });
    directory.observeHeartbeat(heartbeat("eu-west"));
    advance(10_001);
    expect(directory.health("eu-west")).toBe("stale");
    expect(names(directory.rank(PARIS))).toEqual(["us-east", "ap-southeast", "eu-west"]);
    directory.observeHeartbeat(heartbeat("eu-west"));
    expect(names(directory.rank(PARIS))[0]).toBe("eu-west");
  });

  it("leaves out a region whose every live node is draining or not ready", () => {
    const { directory } = setup();
    directory.observeHeartbeat(heartbeat("eu-west", { draining: true }));
    directory.observeHeartbeat(heartbeat("eu-west", { node_id: "eu-west-node-2", ready: false }));
    expect(directory.health("eu-west")).toBe("draining");
    expect(names(directory.rank(PARIS))).toEqual(["us-east", "ap-southeast"]);
    // One healthy node is enough.
    directory.observeHeartbeat(heartbeat("eu-west", { node_id: "eu-west-node-3" }));
    expect(names(directory.rank(PARIS))[0]).toBe("eu-west");
  });

  it("ignores an older heartbeat arriving after a newer one of the same node", () => {
    const { directory, now } = setup();
    directory.observeHeartbeat(heartbeat("eu-west", { draining: true }), now());
    directory.observeHeartbeat(heartbeat("eu-west"), now() - 5_000);
    expect(directory.health("eu-west")).toBe("draining");
  });

  it("honours exclusions and refuses unconfigured regions", () => {
    const { directory } = setup();
    expect(names(directory.rank(PARIS, new Set(["eu-west"])))).toEqual(["us-east", "ap-southeast"]);
    expect(directory.observeHeartbeat(heartbeat("mars-1"))).toBe(false);
  });
});

describe("RegionDirectory breaker", () => {
  it("trips after consecutive failures, lets a trial through after the cool-down, re-trips on failure", () => {
    const { directory, advance } = setup({ breakerThreshold: 3, breakerCooldownMs: 30_000 });
    directory.recordFailure("eu-west");
    directory.recordFailure("eu-west");
    expect(directory.health("eu-west")).toBe("unknown");
    directory.recordFailure("eu-west");
    expect(directory.health("eu-west")).toBe("tripped");
    // Open: tried only after every other region (never refused outright).
    expect(names(directory.rank(PARIS))).toEqual(["us-east", "ap-southeast", "eu-west"]);

    advance(30_001);
    expect(names(directory.rank(PARIS))[0]).toBe("eu-west");
    directory.recordFailure("eu-west");
    expect(directory.health("eu-west")).toBe("tripped");

    advance(30_001);
    directory.recordSuccess("eu-west");
    directory.recordFailure("eu-west");
    expect(directory.health("eu-west")).toBe("unknown");
  });

  it("a success in between resets the count", () => {
    const { directory } = setup({ breakerThreshold: 2 });
    directory.recordFailure("us-east");
    directory.recordSuccess("us-east");
    directory.recordFailure("us-east");
    expect(directory.health("us-east")).toBe("unknown");
  });
});

describe("RegionDirectory.describe", () => {
  it("reports health, last heartbeat and queue depth", () => {
    const { directory, now } = setup();
    directory.observeHeartbeat(heartbeat("us-east"));
    const [us, eu] = directory.describe();
    expect(us).toMatchObject({
      name: "us-east",
      health: "healthy",
      last_heartbeat_at: new Date(now()).toISOString(),
      queue_depth: { fast: 0, standard: 0, relax: 0 },
    });
    expect(eu).toMatchObject({ name: "eu-west", health: "unknown", last_heartbeat_at: null });
  });
});
