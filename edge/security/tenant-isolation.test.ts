import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { FeedbackList } from "../../contracts/feedback.ts";
import { createProject, upsertProjectMember } from "../../db/queries/projects.ts";
import { generations } from "../../db/schema/generations.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

// One account's generations, assets, votes and reviews are invisible to every other account: a
// stranger's key gets the same 404 as an unknown id (no existence oracle), assets 403, and nothing
// it does (feedback, refine, withdrawing) changes the owner's data.

let f: EdgeFixture;
let eu: RegionStandIn;
let stranger: Awaited<ReturnType<typeof seedAccount>>;
let queuedId: string;
let done: { id: string; path: string; signedPath: string };

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [eu.config] });
  stranger = await seedAccount(f.db);

  const queued = await f.call("/v1/generations", {
    method: "POST",
    json: { prompt: "lighthouse" },
  });
  queuedId = (await queued.json()).id;

  const bytes = new TextEncoder().encode("owner's private pixels ".repeat(10));
  const res = await f.call("/v1/generations", { method: "POST", json: { prompt: "harbour" } });
  expect(res.status).toBe(202);
  const job = eu.jobs.at(-1)!;
  const output = storedObjectOf(bytes);
  eu.objects.set(output.key, { bytes, contentType: "image/png" });
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
  const gen = Generation.parse(await (await f.call(`/v1/generations/${job.job_id}`)).json());
  const url = new URL(gen.output!.url);
  done = { id: gen.id, path: url.pathname, signedPath: url.pathname + url.search };
});
afterAll(async () => {
  await f?.close();
  await eu?.close();
});

const asStranger = (path: string, init: Parameters<EdgeFixture["call"]>[1] = {}) =>
  f.call(path, { ...init, key: stranger.key });

describe("tenant isolation", () => {
  it("another account's generation reads as not found, like an unknown id", async () => {
    for (const id of [queuedId, done.id]) {
      const theirs = await expectError(
        await asStranger(`/v1/generations/${id}`),
        404,
        "not_found_error",
      );
      const unknownId = `gen_${"0".repeat(26)}`;
      const unknown = await expectError(
        await asStranger(`/v1/generations/${unknownId}`),
        404,
        "not_found_error",
      );
      expect(theirs.code).toBe(unknown.code);
      // Same words for both: the message only echoes the id the caller sent.
      expect(theirs.message.replace(id, "ID")).toBe(unknown.message.replace(unknownId, "ID"));
    }
  });

  it("another account's list never includes the owner's generations", async () => {
    const res = await asStranger("/v1/generations?limit=100");
    expect(res.status).toBe(200);
    expect(GenerationList.parse(await res.json()).data).toEqual([]);
    const own = GenerationList.parse(await (await f.call("/v1/generations?limit=100")).json());
    expect(own.data.map((g) => g.id).sort()).toEqual([queuedId, done.id].sort());
  });

  it("another account can neither watch nor cancel the owner's generation", async () => {
    await expectError(
      await asStranger(`/v1/generations/${queuedId}/events`),
      404,
      "not_found_error",
    );
    await expectError(
      await asStranger(`/v1/generations/${queuedId}/cancel`, { method: "POST" }),
      404,
      "not_found_error",
    );
    const still = Generation.parse(await (await f.call(`/v1/generations/${queuedId}`)).json());
    expect(still.status).not.toBe("canceled");
    expect(eu.cancels).toEqual([]);
  });

  it("another account's key does not open a private asset; the owner's does", async () => {
    await expectError(await asStranger(done.path), 403, "permission_error", "asset_private");
    expect((await f.call(done.path)).status).toBe(200);
  });

  it("an idempotency key is scoped to its account: the same key elsewhere is a new generation", async () => {
    const headers = { "idempotency-key": "shared-key-0001" };
    const mine = await f.call("/v1/generations", {
      method: "POST",
      headers,
      json: { prompt: "fjord" },
    });
    const theirs = await asStranger("/v1/generations", {
      method: "POST",
      headers,
      json: { prompt: "fjord" },
    });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect((await theirs.json()).id).not.toBe((await mine.json()).id);
  });

  it("feedback and refine on another account's private output read as not found, like an unknown id", async () => {
    const unknownId = `gen_${"0".repeat(26)}`;
    const jobsBefore = eu.jobs.length;
    const attempts: [string, string, unknown][] = [
      ["POST", "feedback", { kind: "report", reason: "spam" }],
      ["DELETE", "feedback", undefined],
      ["POST", "refine", {}],
    ];
    for (const [method, action, json] of attempts) {
      const theirs = await expectError(
        await asStranger(`/v1/generations/${done.id}/${action}`, { method, json }),
        404,
        "not_found_error",
      );
      const unknown = await expectError(
        await asStranger(`/v1/generations/${unknownId}/${action}`, { method, json }),
        404,
        "not_found_error",
      );
      expect(theirs.code).toBe(unknown.code);
      expect(theirs.message.replace(done.id, "ID")).toBe(unknown.message.replace(unknownId, "ID"));
    }
    expect(eu.jobs).toHaveLength(jobsBefore);
  });

  it("votes are the voter's own: listed only to it, withdrawn only by it", async () => {
    expect(
      (
        await f.call(`/v1/generations/${done.id}/feedback`, {
          method: "POST",
          json: { kind: "like" },
        })
      ).status,
    ).toBe(200);
    const theirs = await asStranger("/v1/feedback");
    expect(FeedbackList.parse(await theirs.json()).data).toEqual([]);
    await expectError(
      await asStranger(`/v1/generations/${done.id}/feedback`, { method: "DELETE" }),
      404,
      "not_found_error",
    );
    const mine = FeedbackList.parse(await (await f.call("/v1/feedback")).json());
    expect(mine.data.map((v) => [v.generation, v.kind])).toEqual([[done.id, "like"]]);
  });

  it("an output hidden for review leaves lists shared with other members; its owner still has it", async () => {
    const project = await createProject(f.db, {
      accountId: f.owner.account.id,
      name: "team",
      visibility: "private",
    });
    await upsertProjectMember(f.db, {
      projectId: project.id,
      accountId: stranger.account.id,
      role: "viewer",
    });
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "team harbour", project: project.id },
    });
    const { id } = Generation.parse(await res.json());
    const list = async (key: string) =>
      GenerationList.parse(
        await (await f.call(`/v1/generations?project=${project.id}`, { key })).json(),
      ).data.map((g) => g.id);
    expect(await list(stranger.key)).toEqual([id]);
    await f.db
      .update(generations)
      .set({ reviewState: "pending", reviewOpenedAt: new Date() })
      .where(eq(generations.id, id));
    expect(await list(stranger.key)).toEqual([]);
    expect(await list(f.owner.key)).toEqual([id]);
    const owners = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(owners.review?.state).toBe("pending");
  });
});
