import { env } from "cloudflare:workers";
import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { REGION_PATHS } from "../../contracts/region-protocol.ts";
import { deriveRegionKeySet } from "../../contracts/region-keys.ts";
import { signRequest } from "../../contracts/signing.ts";
import worker from "../../edge/entry/worker.ts";
import { idleHeartbeat } from "../../edge/testing/heartbeats.ts";
import { bearer, edge, generationOf, jobFor, standIn } from "./helpers.ts";

// The Worker's cron trigger runs the lease sweep: a job whose region went silent (ap-south never
// sends a heartbeat) is taken back and dispatched to a region that is alive.

const MUMBAI = { latitude: "19.08", longitude: "72.88" };

async function heartbeat(region: string): Promise<void> {
  const beat = idleHeartbeat(region, []);
  const path = REGION_PATHS.heartbeat(region);
  const body = JSON.stringify(beat);
  const key = (await deriveRegionKeySet(env.REGION_SIGNING_SECRET, region)).current;
  const headers = await signRequest(key, { method: "POST", path, body });
  const res = await edge(path, { method: "POST", headers, body });
  expect(res.status).toBe(200);
}

describe("Worker entry: the cron trigger's lease sweep", () => {
  it("redispatches a job whose region went down to a live one", async () => {
    // Created from Mumbai: its nearest region takes it.
    const sent = await edge("/v1/generations", {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse at dusk over a calm sea", seed: 8 }),
      cf: MUMBAI,
    });
    expect(sent.status).toBe(202);
    const generation = await generationOf(sent);
    expect(generation.region).toBe("ap-south");
    await jobFor("ap-south", (j) => j.job_id === generation.id);

    // us-east is alive; ap-south has never been heard from (a region that went down).
    await heartbeat("us-east");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const job = await jobFor("us-east", (j) => j.job_id === `${generation.id}.2`);
    expect(job.callback_url).toBe("https://edge.test/internal/regions/us-east/events");
    const read = await generationOf(
      await edge(`/v1/generations/${generation.id}`, { headers: bearer() }),
    );
    expect(read).toMatchObject({ status: "queued", region: "us-east" });
    expect(read.attempts.map((a) => [a.region, a.reason])).toEqual([
      ["ap-south", "region_down"],
      ["us-east", null],
    ]);
    expect((await standIn("ap-south")).jobs.map((j) => j.job_id)).toContain(generation.id);
  });
});
