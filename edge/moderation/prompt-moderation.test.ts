import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { listModerationEvents } from "../../db/queries/moderation-events.ts";
import { createProject } from "../../db/queries/projects.ts";
import { generations } from "../../db/schema/generations.ts";
import { usageLedger } from "../../db/schema/usage-ledger.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";

// Prompt moderation through POST /v1/generations: a real app over PGlite and a real region stand-in.

const PARIS = { "x-client-lat": "48.85", "x-client-lon": "2.35" };

let f: EdgeFixture;
let region: RegionStandIn;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  f = await createEdgeFixture({ regions: [region.config] });
});
afterAll(async () => {
  await f.close();
  await region.close();
});
beforeEach(() => {
  region.jobs.length = 0;
});

const create = (json: Record<string, unknown>, headers: Record<string, string> = PARIS) =>
  f.call("/v1/generations", { method: "POST", json: { cache: false, ...json }, headers });

describe("a blocked prompt", () => {
  it("is answered 422 naming the categories and the matched spans of the original prompt", async () => {
    const prompt = "portrait of a 14 year old, s e x y pose";
    const res = await create({ prompt });
    const error = await expectError(res, 422, "content_policy_violation", "prompt_blocked");
    expect(error.categories).toEqual(["sexual", "minors"]);
    expect(error.param).toBe("prompt");
    expect(error.matches).toEqual([
      { param: "prompt", category: "minors", start: 14, end: 25, text: "14 year old" },
      { param: "prompt", category: "sexual", start: 27, end: 34, text: "s e x y" },
    ]);
    for (const m of error.matches!) expect(prompt.slice(m.start, m.end)).toBe(m.text);
    expect(error.generation).toMatch(/^gen_/);
  });

  it("runs no GPU work, charges nothing, and leaves a moderation event and a blocked generation", async () => {
    const res = await create({ prompt: "a gory beheading in a town square" });
    const error = await expectError(res, 422, "content_policy_violation", "prompt_blocked");
    const id = error.generation!;
    expect(region.jobs).toHaveLength(0);
    expect(await f.db.select().from(usageLedger).where(eq(usageLedger.generationId, id))).toEqual(
      [],
    );

    const [event] = await listModerationEvents(f.db, f.owner.account.id, { generationId: id });
    expect(event).toMatchObject({ stage: "prompt", action: "block", categories: ["violence"] });
    expect(event!.matched).toEqual(
      expect.arrayContaining([expect.objectContaining({ category: "violence", text: "gory" })]),
    );

    // The attempt is visible to its owner: by id and in the list.
    const got = Generation.parse(await (await f.call(`/v1/generations/${id}`)).json());
    expect(got).toMatchObject({
      status: "blocked",
      output: null,
      cost: { estimated_usd: 0, actual_usd: null },
      error: { type: "content_policy_violation", code: "prompt_blocked", categories: ["violence"] },
    });
    const list = GenerationList.parse(
      await (await f.call("/v1/generations?status=blocked")).json(),
    );
    expect(list.data.map((g) => g.id)).toContain(id);
  });

  it("is refused again, the same way, when the request is replayed with its Idempotency-Key", async () => {
    const headers = { ...PARIS, "idempotency-key": "blocked-replay-1" };
    const first = await expectError(
      await create({ prompt: "nud3 selfie" }, headers),
      422,
      "content_policy_violation",
    );
    const again = await expectError(
      await create({ prompt: "nud3 selfie" }, headers),
      422,
      "content_policy_violation",
    );
    expect(again.generation).toBe(first.generation);
    expect(again.matches).toEqual(first.matches);
    const rows = await f.db
      .select()
      .from(generations)
      .where(eq(generations.idempotencyKey, "blocked-replay-1"));
    expect(rows).toHaveLength(1);
    await expectError(await create({ prompt: "a calm lake" }, headers), 409, "idempotency_error");
  });
});

describe("the negative prompt", () => {
  it("is not a request for what it names", async () => {
    const res = await create({
      prompt: "a mountain lake",
      negative_prompt: "blood, gore, nudity, nsfw",
    });
    expect(res.status).toBe(202);
    expect(region.jobs).toHaveLength(1);
  });

  it("is still length-limited", async () => {
    const res = await create({ prompt: "a mountain lake", negative_prompt: "x".repeat(2001) });
    await expectError(res, 400, "invalid_request_error");
  });
});

describe("per-project strictness", () => {
  const inProject = async (strictness: "relaxed" | "standard" | "strict", prompt: string) => {
    const project = await createProject(f.db, {
      accountId: f.owner.account.id,
      name: `${strictness} project`,
      moderationPolicy: { strictness },
    });
    return create({ prompt, project: project.id });
  };

  it("relaxed allows artistic nudity, and records it as flagged", async () => {
    const res = await inProject("relaxed", "a nude figure study in charcoal");
    expect(res.status).toBe(202);
    const gen = Generation.parse(await res.json());
    const [row] = await f.db.select().from(generations).where(eq(generations.id, gen.id));
    expect(row!.moderation).toMatchObject({ prompt: { action: "flag", categories: ["sexual"] } });
  });

  it("strict blocks what standard lets through", async () => {
    expect((await create({ prompt: "a woman in lingerie, boudoir photo" })).status).toBe(202);
    await expectError(
      await inProject("strict", "a woman in lingerie, boudoir photo"),
      422,
      "content_policy_violation",
    );
  });

  it("minors together with anything sexual is blocked even when relaxed", async () => {
    const error = await expectError(
      await inProject("relaxed", "a teenager in a bikini"),
      422,
      "content_policy_violation",
    );
    expect(error.categories).toEqual(["sexual", "minors"]);
  });
});
