import { RegionKeyring } from "./region-keyring.ts";
import { testRegionKeys } from "../testing/region-keys.ts";
import { afterEach, describe, expect, it } from "vitest";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { deadRegion, startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { dispatchJob, type JobDraft } from "./dispatch.ts";
import { RegionDirectory } from "./region-directory.ts";

const SECRET = "dispatch-secret-0123456789";
const standIns: RegionStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

async function standIn(name: string, mode: RegionStandIn["mode"]) {
  const s = await startRegionStandIn({ name, lat: 0, lon: 0, secret: SECRET, mode });
  standIns.push(s);
  return s;
}

const draft: JobDraft = {
  job_id: "gen_01jdq5v4w8x9y0z1a2b3c4d5e6",
  request_id: "req_test",
  account_id: "acct_1",
  project_id: null,
  model: "cppn-glove",
  model_version: "1",
  prompt: "a quiet harbour",
  negative_prompt: null,
  width: 64,
  height: 64,
  seed: 7,
  priority: "standard",
  submitted_at: new Date().toISOString(),
};

function deps(regions: RegionConfig[], overrides: { secret?: string; timeoutMs?: number } = {}) {
  const directory = new RegionDirectory(regions, { breakerThreshold: 2 });
  return {
    directory,
    fetch: globalThis.fetch,
    // Each region's key, derived from the secret as the stand-ins derive theirs.
    keys: new RegionKeyring(
      testRegionKeys(
        overrides.secret ?? SECRET,
        regions.map((r) => r.name),
      ),
    ),
    clock: Date.now,
    timeoutMs: overrides.timeoutMs ?? 2_000,
    log: () => {},
  };
}
const callback = (r: RegionConfig) => `http://edge.test/internal/regions/${r.name}/events`;

describe("dispatchJob", () => {
  it("sends a signed job with the region's callback URL and returns its acceptance", async () => {
    const eu = await standIn("eu-west", { kind: "accept", estimatedWaitMs: 321 });
    const result = await dispatchJob(draft, [eu.config], callback, deps([eu.config]));
    expect(result).toMatchObject({
      kind: "accepted",
      region: { name: "eu-west" },
      accepted: { estimated_wait_ms: 321 },
    });
    expect(eu.unsigned).toBe(0);
    expect(eu.jobs).toHaveLength(1);
    expect(eu.jobs[0]).toMatchObject({
      ...draft,
      callback_url: "http://edge.test/internal/regions/eu-west/events",
    });
  });

  it.each([503, 429] as const)(
    "fails over to the next region on %i and reports Retry-After",
    async (status) => {
      const eu = await standIn("eu-west", { kind: "busy", status, retryAfterS: 7 });
      const us = await standIn("us-east", { kind: "accept" });
      const d = deps([eu.config, us.config]);
      const result = await dispatchJob(draft, [eu.config, us.config], callback, d);
      expect(result.kind).toBe("accepted");
      expect(result.attempts.map((a) => [a.region, a.outcome])).toEqual([
        ["eu-west", "busy"],
        ["us-east", "accepted"],
      ]);
      expect(us.jobs[0]?.callback_url).toContain("/internal/regions/us-east/events");
      // Push-back is not a fault.
      d.directory.recordFailure("eu-west");
      expect(d.directory.health("eu-west")).toBe("unknown");
    },
  );

  it("fails over on a refused connection and a timeout, counting both against the breaker", async () => {
    const dead = await deadRegion("us-east", 0, 0);
    const slow = await standIn("eu-west", { kind: "hang" });
    const ap = await standIn("ap-southeast", { kind: "accept" });
    const d = deps([dead, slow.config, ap.config], { timeoutMs: 300 });
    const started = performance.now();
    const result = await dispatchJob(draft, [dead, slow.config, ap.config], callback, d);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.attempts.map((a) => a.outcome)).toEqual([
      "unreachable",
      "unreachable",
      "accepted",
    ]);
    expect(result.attempts[1]?.detail).toMatch(/timeout|abort/i);
    d.directory.recordFailure("us-east");
    expect(d.directory.health("us-east")).toBe("tripped");
  });

  it("stops at a non-retryable answer (500, 4xx): nothing else is honoured as retryable", async () => {
    for (const status of [500, 400, 422]) {
      const bad = await standIn("eu-west", { kind: "reject", status });
      const good = await standIn("us-east", { kind: "accept" });
      const result = await dispatchJob(
        draft,
        [bad.config, good.config],
        callback,
        deps([bad.config, good.config]),
      );
      expect(result).toMatchObject({ kind: "rejected", status, region: { name: "eu-west" } });
      expect(good.jobs).toHaveLength(0);
    }
  });

  it("is exhausted when every region pushes back, with the smallest Retry-After", async () => {
    const a = await standIn("eu-west", { kind: "busy", status: 503, retryAfterS: 9 });
    const b = await standIn("us-east", { kind: "busy", status: 429, retryAfterS: 3 });
    const result = await dispatchJob(
      draft,
      [a.config, b.config],
      callback,
      deps([a.config, b.config]),
    );
    expect(result).toMatchObject({ kind: "exhausted", retryAfterS: 3 });
  });

  it("is exhausted with a default Retry-After when no region answers, or there is none", async () => {
    const dead = await deadRegion("eu-west", 0, 0);
    expect(await dispatchJob(draft, [dead], callback, deps([dead]))).toMatchObject({
      kind: "exhausted",
      retryAfterS: 5,
    });
    expect(await dispatchJob(draft, [], callback, deps([]))).toMatchObject({
      kind: "exhausted",
      attempts: [],
    });
  });

  it("a region with another secret refuses the job (401) and it is not retried elsewhere", async () => {
    const eu = await standIn("eu-west", { kind: "accept" });
    const result = await dispatchJob(
      draft,
      [eu.config],
      callback,
      deps([eu.config], { secret: "wrong-secret-0123456789" }),
    );
    expect(result).toMatchObject({ kind: "rejected", status: 401 });
    expect(eu.unsigned).toBe(1);
  });
});
