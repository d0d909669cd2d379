import { describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { readEvents } from "../../edge/testing/sse.ts";
import {
  bearer,
  completeJob,
  createGeneration,
  edge,
  generationOf,
  jobFor,
  originObject,
  storedObject,
  uniquePhrase,
} from "./helpers.ts";

// Progress on workerd: the event stream reads the database after its handler returned (the entry
// keeps the request's connections open until the stream ends), and is woken by events that other
// requests, in their own I/O contexts, apply.

async function queuedGeneration(prompt: string) {
  const res = await createGeneration({ prompt, seed: 5, width: 256, height: 256 });
  expect(res.status).toBe(202);
  const generation = await generationOf(res);
  const job = await jobFor("us-east", (j) => j.job_id === generation.id);
  return { generation, job };
}

const stream = (id: string) => edge(`/v1/generations/${id}/events`, { headers: bearer() });

describe("Worker entry: GET /v1/generations/:id/events", () => {
  it("streams routed, running, succeeded as other requests apply them, then ends", async () => {
    const { generation, job } = await queuedGeneration(`sse on workerd ${uniquePhrase()}`);
    const res = await stream(generation.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = readEvents(res.body!);
    const first = await events.next(10_000);
    expect(first?.event).toBe("routed");
    expect(Generation.parse(JSON.parse(first!.data)).routing).toMatchObject({
      region: "us-east",
      candidates: [
        { region: "eu-west", outcome: "busy" },
        { region: "us-east", outcome: "accepted" },
        { region: "ap-south", outcome: "not_tried" },
      ],
    });

    await completeJob(job, "us-east", await storedObject(originObject()));
    const running = await events.next(10_000);
    expect(running?.event).toBe("running");
    const done = await events.next(10_000);
    expect(done?.event).toBe("succeeded");
    expect(Generation.parse(JSON.parse(done!.data))).toMatchObject({
      id: generation.id,
      status: "succeeded",
      output: { content_type: "image/png" },
    });
    expect(await events.next(10_000)).toBeNull();
  });
});

describe("Worker entry: POST /v1/generations/:id/cancel", () => {
  it("cancels a queued generation and ends its open stream with `canceled`", async () => {
    const { generation } = await queuedGeneration(`cancel on workerd ${uniquePhrase()}`);
    const events = readEvents((await stream(generation.id)).body!);
    expect((await events.next(10_000))?.event).toBe("routed");

    const res = await edge(`/v1/generations/${generation.id}/cancel`, {
      method: "POST",
      headers: bearer(),
    });
    expect(res.status).toBe(200);
    expect(await generationOf(res)).toMatchObject({ id: generation.id, status: "canceled" });
    expect((await events.next(10_000))?.event).toBe("canceled");
    expect(await events.next(10_000)).toBeNull();

    const again = await edge(`/v1/generations/${generation.id}/cancel`, {
      method: "POST",
      headers: bearer(),
    });
    expect((await generationOf(again)).status).toBe("canceled");
  });
});
