import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { UsageReport } from "../../contracts/usage.ts";
import { createProject } from "../../db/queries/projects.ts";
import { insertGeneration } from "../../db/queries/generations.ts";
import { closeReservation, insertReservation } from "../../db/queries/usage-ledger.ts";
import { createApiKey } from "../../db/queries/api-keys.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, failedEvent, succeededEvent } from "../testing/job-events.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { TEST_MODEL } from "../testing/seed.ts";

// GET /v1/usage over real work: generations created through the API, finished by signed region
// events (succeeded, failed, canceled, answered from the dedup cache), in two projects, two keys
// and two lanes. Every figure is checked against the generations themselves.

let f: EdgeFixture;
let eu: RegionStandIn;
let secondKey: string;
let testKey: string;
let projectId: string;
const created: string[] = [];

const usage = async (query: string, key?: string) => {
  const res = await f.call(`/v1/usage${query}`, { key });
  expect(res.status).toBe(200);
  return UsageReport.parse(await res.json());
};

async function submit(body: Record<string, unknown>, key?: string) {
  const res = await f.call("/v1/generations", { method: "POST", json: body, key });
  expect(res.status, JSON.stringify(body)).toBeLessThan(300);
  const gen = Generation.parse(await res.json());
  created.push(gen.id);
  return gen;
}

async function succeed(gpuMs: number) {
  const job = eu.jobs.at(-1)!;
  const bytes = new TextEncoder().encode(`pixels of ${job.job_id}`);
  eu.objects.set(storedObjectOf(bytes).key, { bytes, contentType: "image/png" });
  const res = await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(job, "eu-west", bytes, gpuMs),
  );
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [eu.config] });
  projectId = (await createProject(f.db, { accountId: f.owner.account.id, name: "Posters" })).id;
  secondKey = (
    await createApiKey(f.db, { accountId: f.owner.account.id, mode: "live", name: "ci" })
  ).key;
  testKey = (await createApiKey(f.db, { accountId: f.owner.account.id, mode: "test" })).key;

  await submit({ prompt: "harbour at dawn", seed: 7 });
  await succeed(120);
  await submit({ prompt: "harbour at dawn", seed: 7 }); // answered from the dedup cache
  await submit({ prompt: "forest in rain", priority: "fast", project: projectId });
  await succeed(300);
  await submit({ prompt: "neon city", project: projectId }, secondKey);
  await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    failedEvent(eu.jobs.at(-1)!, "eu-west", false, "out_of_memory"),
  );
  const canceled = await submit({ prompt: "a lighthouse" });
  expect((await f.call(`${canceled.urls.cancel}`, { method: "POST" })).status).toBe(200);
  await submit({ prompt: "still running", priority: "relax" }); // queued: its estimate is held
  await submit({ prompt: "test mode sketch" }, testKey);
  await succeed(50);
  await f.tasks.drain(5_000);
}, 60_000);
afterAll(async () => {
  await f?.close();
  await eu?.close();
});

async function generations(key?: string) {
  const res = await f.call("/v1/generations?limit=100", { key });
  return GenerationList.parse(await res.json()).data;
}

describe("GET /v1/usage", () => {
  it("totals agree with the generations: counts, GPU time, cost, holds and cache savings", async () => {
    const live = (await generations()).filter((g) => g.livemode !== false);
    const report = await usage("");
    expect(report.livemode).toBe(true);
    const t = report.totals;
    expect(t.requests).toBe(live.length);
    expect(t.succeeded).toBe(live.filter((g) => g.status === "succeeded" && !g.cached).length);
    expect(t.cached).toBe(live.filter((g) => g.cached).length);
    expect(t.refunded).toBe(live.filter((g) => ["failed", "canceled"].includes(g.status)).length);
    expect(t.in_flight).toBe(live.filter((g) => g.status === "queued").length);
    const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 1e6) / 1e6;
    expect(t.cost_usd).toBe(sum(live.map((g) => g.cost.actual_usd ?? 0)));
    expect(t.cost_usd).toBeGreaterThan(0);
    expect(t.gpu_ms).toBe(
      sum(live.map((g) => (g.status === "succeeded" ? (g.cost.gpu_ms ?? 0) : 0))),
    );
    const queued = live.filter((g) => g.status === "queued");
    expect(t.reserved_usd).toBe(sum(queued.map((g) => g.cost.estimated_usd)));
    // The cached answer saved what the stored work cost.
    const original = live.find((g) => g.prompt === "harbour at dawn" && !g.cached)!;
    expect(t.saved_usd).toBe(original.cost.actual_usd);
    expect(t.time_to_image_ms.p50).not.toBeNull();
  });

  it.each(["model", "project", "region", "key", "lane", "day", "hour"])(
    "group_by=%s: the groups add up to the totals",
    async (groupBy) => {
      const report = await usage(`?group_by=${groupBy}`);
      expect(report.group_by).toBe(groupBy);
      const add = (k: "requests" | "cost_usd" | "gpu_ms") =>
        Math.round(report.data.reduce((a, g) => a + g[k], 0) * 1e6) / 1e6;
      expect(add("requests")).toBe(report.totals.requests);
      expect(add("cost_usd")).toBe(report.totals.cost_usd);
      expect(add("gpu_ms")).toBe(report.totals.gpu_ms);
    },
  );

  it("groups carry their keys and readable labels", async () => {
    const byProject = await usage("?group_by=project");
    expect(byProject.data.find((g) => g.key === projectId)).toMatchObject({
      label: "Posters",
      requests: 2,
    });
    const byKey = await usage("?group_by=key");
    expect(byKey.data.find((g) => g.label?.startsWith("ci (gk_live_"))).toMatchObject({
      requests: 1,
      refunded: 1,
      cost_usd: 0,
    });
    const byLane = await usage("?group_by=lane");
    expect(byLane.data.map((g) => g.key).sort()).toEqual(["fast", "relax", "standard"]);
    const byModel = await usage("?group_by=model");
    expect(byModel.data.map((g) => g.key)).toEqual([`${TEST_MODEL.name}@${TEST_MODEL.version}`]);
  });

  it("hour and day buckets cover the whole range, empty ones as zero", async () => {
    const now = Date.now();
    const from = new Date(now - 5 * 3_600_000).toISOString();
    const report = await usage(`?group_by=hour&from=${from}`);
    expect(report.data).toHaveLength(6);
    expect(report.data.filter((g) => g.requests > 0)).toHaveLength(1);
    expect(report.data.at(-1)!.key).toBe(`${new Date(now).toISOString().slice(0, 13)}:00:00Z`);
  });

  it("test-mode keys see test usage: counted, never charged", async () => {
    const report = await usage("", testKey);
    expect(report.livemode).toBe(false);
    expect(report.totals).toMatchObject({ requests: 1, succeeded: 1, cost_usd: 0, gpu_ms: 50 });
    expect((await usage("?mode=test")).totals.requests).toBe(1);
  });

  it("history past this month: a range of earlier months reads their ledger", async () => {
    const before = (await usage("")).totals;
    const at = new Date(Date.UTC(2025, 1, 10, 12));
    const { generation } = await insertGeneration(f.db, {
      accountId: f.owner.account.id,
      model: TEST_MODEL.name,
      modelVersion: TEST_MODEL.version,
      prompt: "old work",
      params: { width: 512, height: 512, seed: 1, priority: "standard" },
      status: "succeeded",
      region: "eu-west",
      gpuMs: 900,
      costActualMicrousd: 900,
      createdAt: at,
      completedAt: new Date(at.getTime() + 2_000),
    });
    await insertReservation(f.db, generation, 1_000);
    await closeReservation(f.db, generation, {
      kind: "settle",
      chargedMicrousd: 900,
      gpuMs: 900,
      at: new Date(at.getTime() + 2_000),
    });
    const feb = await usage("?from=2025-02-01&to=2025-03-01&group_by=day");
    expect(feb.totals).toMatchObject({ requests: 1, cost_usd: 0.0009, gpu_ms: 900 });
    expect(feb.totals.time_to_image_ms.p50).toBe(2_000);
    expect(feb.data).toHaveLength(28);
    expect(feb.data.find((d) => d.key === "2025-02-10")?.requests).toBe(1);
    // The default range is this month: February's work is not in it.
    expect((await usage("")).totals).toEqual(before);
  });

  it("exports CSV with Accept: text/csv", async () => {
    const res = await f.call("/v1/usage?group_by=lane", { headers: { accept: "text/csv" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(
      /attachment; filename="usage-.*-lane\.csv"/,
    );
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "lane,label,requests,succeeded,refunded,cached,in_flight,gpu_ms,cost_usd,reserved_usd,saved_usd,p50_ms,p95_ms",
    );
    const json = await usage("?group_by=lane");
    expect(lines).toHaveLength(1 + json.data.length);
    const cost = lines.slice(1).reduce((a, l) => a + Number(l.split(",")[8]), 0);
    expect(Math.round(cost * 1e6) / 1e6).toBe(json.totals.cost_usd);
  });

  it.each([
    ["?from=2026-02-01&to=2026-01-01", "invalid_range"],
    ["?from=2025-01-01&to=2025-03-01&group_by=hour", "range_too_large"],
    ["?group_by=week", "invalid_value"],
    ["?from=yesterday", "invalid_format"],
  ])("answers %s with 400 %s", async (query, code) => {
    const res = await f.call(`/v1/usage${query}`);
    const error = await expectError(res, 400, "invalid_request_error");
    if (code !== "invalid_format") expect(error.code).toBe(code);
  });

  it("never shows another account's usage", async () => {
    expect(created.length).toBeGreaterThan(5);
    const { key } = await import("../testing/seed.ts").then((m) => m.seedAccount(f.db));
    expect((await usage("", key)).totals.requests).toBe(0);
  });
});
