import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  bearer,
  completeJob,
  createGeneration,
  edge,
  errorOf,
  generationOf,
  jobFor,
  originObject,
  postRegionEvent,
  standIn,
  storedObject,
  uniquePhrase,
} from "./helpers.ts";

// POST /v1/generations end to end on workerd: Neon driver -> Postgres, signed dispatch to real
// region servers with failover, signed events back, Prefer: wait.

describe("Worker entry: POST /v1/generations", () => {
  it("writes the row, fails over from the overloaded nearest region and answers 202", async () => {
    const before = await standIn("eu-west");
    const res = await createGeneration({
      prompt: "a quiet harbour at dawn, teal and amber",
      seed: 42,
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const generation = await generationOf(res);
    expect(generation).toMatchObject({
      status: "queued",
      region: "us-east",
      model: "cppn-glove",
      params: { width: 512, height: 512, seed: 42, priority: "standard" },
    });

    // The nearer region was tried first and pushed back; the next one took the signed job.
    const euWest = await standIn("eu-west");
    expect(euWest.jobs.length).toBe(before.jobs.length + 1);
    expect(euWest.jobs.at(-1)?.job_id).toBe(generation.id);
    const job = await jobFor("us-east", (j) => j.job_id === generation.id);
    expect(job).toMatchObject({
      prompt: "a quiet harbour at dawn, teal and amber",
      seed: 42,
      request_id: res.headers.get("x-request-id"),
      callback_url: "https://edge.test/internal/regions/us-east/events",
    });
    expect((await standIn("us-east")).unsigned).toBe(0);

    // Another request (another connection pool) reads the stored row.
    const read = await edge(`/v1/generations/${generation.id}`, { headers: bearer() });
    expect(read.status).toBe(200);
    expect(await generationOf(read)).toMatchObject({
      id: generation.id,
      status: "queued",
      region: "us-east",
    });
  });

  it("routes by request.cf: a client in Virginia goes straight to us-east", async () => {
    const before = (await standIn("eu-west")).jobs.length;
    const res = await edge("/v1/generations", {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: JSON.stringify({ prompt: "cherry blossom over the potomac", seed: 11 }),
      cf: { latitude: "38.9", longitude: "-77.0" },
    });
    expect(res.status).toBe(202);
    expect(await generationOf(res)).toMatchObject({ region: "us-east" });
    expect((await standIn("eu-west")).jobs.length).toBe(before);
  });

  it("holds a Prefer: wait request until the region reports success, then answers 200", async () => {
    const prompt = `lighthouse in fog ${uniquePhrase()}`;
    const waiting = createGeneration(
      { prompt, seed: 7, width: 256, height: 256 },
      { prefer: "wait=20" },
    );
    const job = await jobFor("us-east", (j) => j.prompt === prompt);
    await completeJob(job, "us-east", await storedObject(originObject()));

    const res = await waiting;
    expect(res.status).toBe(200);
    const generation = await generationOf(res);
    expect(generation).toMatchObject({ id: job.job_id, status: "succeeded", region: "us-east" });
    expect(generation.output).toMatchObject({ content_type: "image/png", width: 256, height: 256 });
    expect(generation.output?.url).toMatch(
      /\/v1\/assets\/[0-9a-f]{64}\.png\?exp=\d+&sig=[0-9a-f]+$/,
    );
    // 18.5 GPU ms reported; stored in whole milliseconds.
    expect(generation.cost.gpu_ms).toBe(19);
  });

  it("treats a repeated event as a no-op and refuses unsigned events", async () => {
    const res = await createGeneration({ prompt: "repeated events", seed: 9 });
    const { id } = await generationOf(res);
    const job = await jobFor("us-east", (j) => j.job_id === id);
    const event = {
      type: "running",
      job_id: job.job_id,
      region: "us-east",
      request_id: job.request_id,
      at: new Date().toISOString(),
    } as const;
    expect(await (await postRegionEvent(event)).json()).toEqual({ ok: true, outcome: "applied" });
    expect(await (await postRegionEvent(event)).json()).toEqual({ ok: true, outcome: "ignored" });

    const forged = await postRegionEvent(event, "not-the-shared-secret");
    expect(forged.status).toBe(401);
    expect(await errorOf(forged)).toMatchObject({ type: "authentication_error" });
  });

  it("answers 400 envelopes for bad input without dispatching", async () => {
    const before = (await standIn("us-east")).jobs.length;
    const cases: [object | string, string][] = [
      ["{not json", "invalid_json"],
      [{ prompt: "x", colour: "teal" }, "unknown_parameter"],
      [{ prompt: "x", width: 100 }, "width"],
    ];
    for (const [body, expected] of cases) {
      const res = await edge("/v1/generations", {
        method: "POST",
        headers: { ...bearer(), "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.type).toBe("invalid_request_error");
      expect([error.code, error.param]).toContain(expected);
    }
    expect((await standIn("us-east")).jobs.length).toBe(before);
  });
});

describe("Worker entry: concurrent requests in one isolate", () => {
  it("serves concurrent first requests of a key, each on its own connection pool", async () => {
    const key = env.TEST_FRESH_API_KEY;
    const responses = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        createGeneration({ prompt: `concurrent ${i}`, seed: i }, bearer(key)),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202]);
  });
});
