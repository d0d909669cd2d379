import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { listGenerations } from "../../db/queries/generations.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { deliverHeartbeat, idleHeartbeat } from "../testing/heartbeats.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { TEST_MODEL } from "../testing/seed.ts";

// A region dies in the middle of a run of 300 requests: every request must still end up accepted
// by a region. Real signed stand-ins that take 15 ms to answer, so requests are in flight at the
// kill; the dead one's in-flight dispatches fail over and its breaker keeps later ones away.

const TOTAL = 300;
const KILL_AFTER = 100;
const CONCURRENCY = 12;
const SECRET = TEST_SECRETS.regionSigning;
const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35", "x-client-colo": "CDG" };

let f: EdgeFixture;
const regions: Record<string, RegionStandIn> = {};
const WARM = [`${TEST_MODEL.name}@${TEST_MODEL.version}`];

beforeAll(async () => {
  const slow = { kind: "accept", delayMs: 15 } as const;
  for (const [name, lat, lon] of [
    ["eu-west", 53.35, -6.26],
    ["us-east", 39.04, -77.49],
    ["ap-northeast", 35.68, 139.69],
  ] as const) {
    regions[name] = await startRegionStandIn({ name, lat, lon, secret: SECRET, mode: slow });
  }
  f = await createEdgeFixture({
    regions: Object.values(regions).map((r) => r.config),
    // Production's dispatch timeout (the whole stack shares one event loop here), and a breaker
    // that stays open for the rest of the run once the dead region trips it.
    tuning: { dispatchTimeoutMs: 5_000, breakerCooldownMs: 300_000 },
  });
  for (const name of Object.keys(regions)) {
    await deliverHeartbeat(f.app, SECRET, idleHeartbeat(name, WARM));
  }
});

/** Live regions heartbeat every second, as regional nodes do (every ~2 s) while they run. */
function heartbeatPump(alive: Set<string>): () => Promise<void> {
  const sent: Promise<unknown>[] = [];
  const timer = setInterval(() => {
    for (const name of alive) sent.push(deliverHeartbeat(f.app, SECRET, idleHeartbeat(name, WARM)));
  }, 1_000);
  return async () => {
    clearInterval(timer);
    expect((await Promise.all(sent)).every((res) => (res as Response).status === 200)).toBe(true);
  };
}
afterAll(async () => {
  await f?.close();
  await Promise.all(Object.values(regions).map((r) => r.close()));
});

describe("a region killed during a run of 300 requests", () => {
  // Seconds on an idle machine; the bound is for a busy CI box.
  it("loses none of them: each is accepted by a live region", { timeout: 120_000 }, async () => {
    const answers: { status: number; generation: Generation | null }[] = [];
    const alive = new Set(Object.keys(regions));
    const stopHeartbeats = heartbeatPump(alive);
    let next = 0;
    let kill: Promise<{ victim: string; acceptedBefore: number }> | null = null;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const res = await f.call("/v1/generations", {
          method: "POST",
          json: { prompt: `failover run ${i}`, width: 64, height: 64 },
          headers: PARIS,
        });
        answers.push({
          status: res.status,
          generation: res.status === 202 ? Generation.parse(await res.json()) : null,
        });
        if (answers.length === KILL_AFTER) kill = killOneWithJobsInFlight(alive);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const { victim, acceptedBefore } = await kill!;
    await stopHeartbeats();

    // Every request accepted (202), by a region that really received its job.
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const generations = answers.map((a) => a.generation!);
    for (const g of generations) {
      expect(g.status).toBe("queued");
      expect(regions[g.region!]!.jobs.some((j) => j.job_id === g.id)).toBe(true);
    }
    // The run straddled the kill: the victim took work before it, and the requests it held at the
    // kill failed over to another region.
    expect(acceptedBefore).toBeGreaterThan(0);
    const failedOver = generations.filter((g) =>
      g.routing!.candidates.some((c) => c.region === victim && c.outcome === "unreachable"),
    );
    expect(failedOver.length).toBeGreaterThan(0);
    for (const g of failedOver) expect(g.region).not.toBe(victim);
    // Its breaker opened: the last requests went elsewhere without trying it (it would be tried
    // only if every live region failed them).
    for (const g of generations.slice(-50)) {
      expect(g.region).not.toBe(victim);
      const dead = g.routing!.candidates.find((c) => c.region === victim);
      expect(dead).toMatchObject({ state: "tripped", outcome: "not_tried" });
      expect(g.routing!.candidates.at(-1)?.region).toBe(victim);
    }

    // And the database agrees: 300 generations, each routed.
    const stored = [];
    let cursor: string | undefined;
    do {
      const page = await listGenerations(f.db, f.owner.account.id, { limit: 100, cursor });
      stored.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(stored).toHaveLength(TOTAL);
    expect(stored.every((row) => row.status === "queued" && row.region !== null)).toBe(true);
  });
});

/** Waits until a live region is holding jobs it has not answered yet, and kills it then. */
async function killOneWithJobsInFlight(alive: Set<string>) {
  for (;;) {
    const victim = [...alive].find((name) => regions[name]!.unanswered > 0);
    if (victim) {
      alive.delete(victim);
      const acceptedBefore = regions[victim]!.jobs.length;
      await regions[victim]!.close();
      return { victim, acceptedBefore };
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
