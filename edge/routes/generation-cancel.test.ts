import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { getGeneration, updateGeneration } from "../../db/queries/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent, failedEvent } from "../testing/job-events.ts";
import { deadRegion, startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { ROOMY_TEST_PLAN, seedAccount } from "../testing/seed.ts";
import { readEvents } from "../testing/sse.ts";

// POST /v1/generations/:id/cancel on the real app: PGlite, the usage ledger, and a region stand-in
// that verifies the edge's signed cancel call.

let f: EdgeFixture;
let region: RegionStandIn;
const SECRET = TEST_SECRETS.regionSigning;

beforeAll(async () => {
  region = await startRegionStandIn({ name: "eu-west", lat: 53.35, lon: -6.26, secret: SECRET });
  // us-east is configured but gone: listed second, it is only ever tried for cancels.
  const gone = await deadRegion("us-east", 39, -77);
  f = await createEdgeFixture({ regions: [region.config, gone] });
});
afterAll(async () => {
  await f?.close();
  await region?.close();
});

async function create(prompt: string) {
  const res = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt, width: 64, height: 64 },
  });
  expect(res.status).toBe(202);
  const generation = Generation.parse(await res.json());
  const job = region.jobs.find((j) => j.job_id === generation.id)!;
  return { generation, job };
}
const cancel = (id: string, key?: string) =>
  f.call(`/v1/generations/${id}/cancel`, { method: "POST", ...(key && { key }) });
const ledgerOf = (id: string) =>
  f.db.select().from(usageLedger).where(eq(usageLedger.generationId, id));

describe("POST /v1/generations/:id/cancel", () => {
  it("cancels a queued generation, refunds its reservation and tells the region, signed", async () => {
    const { generation, job } = await create("cancel me");
    const res = await cancel(generation.id);
    expect(res.status).toBe(200);
    const canceled = Generation.parse(await res.json());
    expect(canceled).toMatchObject({ id: generation.id, status: "canceled", region: "eu-west" });
    expect(canceled.completed_at).not.toBeNull();

    const entries = await ledgerOf(generation.id);
    expect(entries.map((e) => e.kind).sort()).toEqual(["refund", "reserve"]);
    expect(entries.reduce((sum, e) => sum + e.amountMicrousd, 0)).toBe(0);

    await f.tasks.drain(5_000);
    expect(region.cancels).toEqual([job.job_id]);
    expect(region.unsigned).toBe(0);
    expect(f.logs).toContainEqual(
      expect.objectContaining({ msg: "region dropped job", state: "canceled", job_id: job.job_id }),
    );

    // Canceling again is harmless: same answer, nothing refunded twice, the region not asked again.
    const again = await cancel(generation.id);
    expect(again.status).toBe(200);
    expect(Generation.parse(await again.json()).status).toBe("canceled");
    expect(await ledgerOf(generation.id)).toHaveLength(2);
    await f.tasks.drain(5_000);
    expect(region.cancels).toHaveLength(1);
  });

  it("ignores the region's later events for it: no run, no charge", async () => {
    const { generation, job } = await create("canceled but it ran anyway");
    expect((await cancel(generation.id)).status).toBe(200);
    for (const event of [
      runningEvent(job, "eu-west"),
      succeededEvent(job, "eu-west", new TextEncoder().encode("late")),
    ]) {
      expect(await (await deliverEvent(f.app, SECRET, event)).json()).toEqual({
        ok: true,
        outcome: "ignored",
      });
    }
    const row = await getGeneration(f.db, generation.id);
    expect(row).toMatchObject({ status: "canceled", assetKey: null, costActualMicrousd: null });
    expect((await ledgerOf(generation.id)).map((e) => e.kind).sort()).toEqual([
      "refund",
      "reserve",
    ]);
  });

  it("refuses with 409 once it started or finished, naming which", async () => {
    const started = await create("already running");
    await deliverEvent(f.app, SECRET, runningEvent(started.job, "eu-west"));
    const running = await cancel(started.generation.id);
    await expectError(running, 409, "invalid_request_error", "generation_already_started");

    await deliverEvent(
      f.app,
      SECRET,
      succeededEvent(started.job, "eu-west", new TextEncoder().encode("done")),
    );
    await expectError(
      await cancel(started.generation.id),
      409,
      "invalid_request_error",
      "generation_already_finished",
    );
    const failed = await create("failed");
    await deliverEvent(f.app, SECRET, failedEvent(failed.job, "eu-west", false, "oom"));
    await expectError(
      await cancel(failed.generation.id),
      409,
      "invalid_request_error",
      "generation_already_finished",
    );
    expect((await getGeneration(f.db, started.generation.id))?.status).toBe("succeeded");
  });

  it("is 404 for another account's generation and for unknown ids", async () => {
    const { generation } = await create("someone else's");
    const other = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
    await expectError(
      await cancel(generation.id, other.key),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(
      await cancel("gen_00000000000000000000000000"),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(await cancel("nope"), 404, "not_found_error", "generation_not_found");
    expect((await getGeneration(f.db, generation.id))?.status).toBe("queued");
  });

  it("ends an open event stream with `canceled`", async () => {
    const { generation } = await create("watched while canceled");
    const res = await f.call(`/v1/generations/${generation.id}/events`);
    const events = readEvents(res.body!);
    expect((await events.next())?.event).toBe("routed");
    await cancel(generation.id);
    const last = await events.next(2_000);
    expect(last?.event).toBe("canceled");
    expect(Generation.parse(JSON.parse(last!.data)).status).toBe("canceled");
    expect(await events.next(2_000)).toBeNull();
  });

  it("stops a stream's work when its client goes away", async () => {
    const { generation } = await create("watched, then not");
    const res = await f.call(`/v1/generations/${generation.id}/events`);
    const events = readEvents(res.body!);
    expect((await events.next())?.event).toBe("routed");
    expect(f.tasks.size).toBeGreaterThan(0);
    await events.cancel();
    expect(await f.tasks.drain(2_000)).toBe(true);
  });

  it("still cancels when the region cannot be reached, and says so in the log", async () => {
    const { generation } = await create("region vanishes");
    // As if the job had gone to the region that is now unreachable.
    await updateGeneration(f.db, generation.id, { region: "us-east" });
    expect((await cancel(generation.id)).status).toBe(200);
    await f.tasks.drain(5_000);
    expect(f.logs).toContainEqual(
      expect.objectContaining({ msg: "region unreachable for cancel", region: "us-east" }),
    );
    expect((await getGeneration(f.db, generation.id))?.status).toBe("canceled");
  });
});
