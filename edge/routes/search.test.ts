import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SearchResults, type SearchResult } from "../../contracts/api.ts";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { createProject } from "../../db/queries/projects.ts";
import { getStyleRecord, setStyleHidden } from "../../db/queries/style-embeddings.ts";
import { direction } from "../../storage/style-index/style-index.contract.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, runningEvent, succeededEvent } from "../testing/job-events.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { ROOMY_TEST_PLAN, seedAccount } from "../testing/seed.ts";

// POST /v1/search and GET /v1/search?q= on the real app and PGlite: outputs are finished by
// signed region events carrying style embeddings, the index is the embedded default (Postgres
// shards), text queries go to a region stand-in.

const REGION = "eu-west";
let f: EdgeFixture;
let region: RegionStandIn;
let bob: Awaited<ReturnType<typeof seedAccount>>;
let bobPublic: string;
let bobPrivateProject: string;
let ownProject: string;
let serial = 0;

beforeAll(async () => {
  region = await startRegionStandIn({
    name: REGION,
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    textStyle: (text) => direction(text.includes("forest") ? 40 : 60),
  });
  f = await createEdgeFixture({ regions: [region.config] });
  bob = await seedAccount(f.db, { plan: ROOMY_TEST_PLAN.id });
  const project = (accountId: string, visibility: "public" | "private") =>
    createProject(f.db, { accountId, name: `p${serial++}`, visibility }).then((p) => p.id);
  bobPublic = await project(bob.account.id, "public");
  bobPrivateProject = await project(bob.account.id, "private");
  ownProject = await project(f.owner.account.id, "private");
});
afterAll(async () => {
  await f?.close();
  await region?.close();
});

/** A generation finished by its region with `embedding` as its style; answers its id. */
async function finished(embedding: number[], opts: { key?: string; project?: string } = {}) {
  serial += 1;
  const res = await f.call("/v1/generations", {
    method: "POST",
    key: opts.key ?? f.owner.key,
    json: {
      prompt: `style ${serial}`,
      seed: serial,
      ...(opts.project && { project: opts.project }),
    },
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const job = region.jobs.find((j) => j.job_id === id)!;
  const bytes = new TextEncoder().encode(`image ${serial}`);
  await deliverEvent(f.app, TEST_SECRETS.regionSigning, runningEvent(job, REGION));
  const done = await deliverEvent(
    f.app,
    TEST_SECRETS.regionSigning,
    succeededEvent(job, REGION, bytes, 10, { embedding }),
  );
  expect(done.status).toBe(200);
  await f.tasks.drain(5_000);
  return id;
}

async function search(body: unknown, key = f.owner.key) {
  const res = await f.call("/v1/search", { method: "POST", key, json: body });
  expect(res.status, await res.clone().text()).toBe(200);
  return SearchResults.parse(await res.json());
}
const ids = (page: { data: SearchResult[] }) => page.data.map((r) => r.generation.id);

describe("style search", () => {
  let own: string;
  let ownNear: string;
  let shared: string;
  let secret: string;
  let secretInProject: string;

  beforeAll(async () => {
    own = await finished(direction(3));
    ownNear = await finished(direction(3, 0.3), { project: ownProject });
    shared = await finished(direction(3, 0.1), { key: bob.key, project: bobPublic });
    secret = await finished(direction(3), { key: bob.key });
    secretInProject = await finished(direction(3, 0.05), {
      key: bob.key,
      project: bobPrivateProject,
    });
  });

  it("answers the caller's own and public outputs, nearest first, with scores and signed URLs", async () => {
    const page = await search({ embedding: direction(3) });
    expect(ids(page)).toEqual([own, shared, ownNear]);
    const [first, second, third] = page.data;
    expect(first!.score).toBeCloseTo(1, 5);
    expect(second!.score).toBeCloseTo(1 / Math.hypot(1, 0.1), 5);
    expect(third!.score).toBeLessThan(second!.score);
    expect(first).toMatchObject({ object: "search_result", owned: true });
    expect(first!.generation.output?.url).toMatch(/\/v1\/assets\/[0-9a-f]{64}\.png\?exp=\d+&sig=/);
    // Another account's public output shows its public fields only.
    expect(second!.owned).toBe(false);
    expect(second!.generation).not.toHaveProperty("cost");
    expect(second!.generation).not.toHaveProperty("metadata");
    expect(second!.generation).not.toHaveProperty("routing");
    expect(second!.generation.output?.url).toMatch(/sig=/);
    expect(page.next_cursor).toBeNull();
  });

  it("never shows another account's private outputs, whatever the query", async () => {
    const bodies: unknown[] = [
      { embedding: direction(3), limit: 50 },
      { embedding: direction(3, 0.05) },
      { embedding: direction(3), project: bobPrivateProject },
      { embedding: direction(3), model: "cppn-glove" },
      { generation: own },
      { generation: shared },
      { text: "a forest" },
      { embedding: direction(3), limit: 1 },
    ];
    for (const body of bodies) {
      const found = ids(await search(body));
      expect(found).not.toContain(secret);
      expect(found).not.toContain(secretInProject);
    }
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search({ embedding: direction(3), limit: 1, ...(cursor && { cursor }) });
      pages.push(...ids(page));
      cursor = page.next_cursor;
    } while (cursor);
    expect(pages).toEqual([own, shared, ownNear]);
    // Bob sees his own, and what he may not read of others is as unknown as a missing id.
    expect(ids(await search({ embedding: direction(3) }, bob.key))).toEqual(
      expect.arrayContaining([secret, secretInProject, shared]),
    );
    for (const generation of [secret, secretInProject]) {
      const res = await f.call("/v1/search", { method: "POST", json: { generation } });
      await expectError(res, 404, "not_found_error", "generation_not_found");
    }
  });

  it("finds more like an output (leaving it out), and narrows by project, model and time", async () => {
    expect(ids(await search({ generation: own }))).toEqual([shared, ownNear]);
    expect(ids(await search({ generation: shared }))).toEqual([own, ownNear]);
    expect(ids(await search({ embedding: direction(3), project: ownProject }))).toEqual([ownNear]);
    expect(await search({ embedding: direction(3), model: "other-model" })).toMatchObject({
      data: [],
    });
    expect(
      ids(await search({ embedding: direction(3), model: "cppn-glove@2026-11-27.1" })),
    ).toHaveLength(3);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await search({ embedding: direction(3), from: future })).toMatchObject({ data: [] });
    expect(ids(await search({ embedding: direction(3), to: future }))).toHaveLength(3);
  });

  it("never shows hidden outputs, even before the index has taken the change", async () => {
    const hidden = await finished(direction(90), { key: bob.key, project: bobPublic });
    expect(ids(await search({ embedding: direction(90), limit: 1 }))).toEqual([hidden]);
    await setStyleHidden(f.db, [hidden], true);
    expect(ids(await search({ embedding: direction(90) }))).not.toContain(hidden);
    expect((await getStyleRecord(f.db, hidden))?.indexedAt).toBeNull();
    // The next region event brings the index up to date: the record is taken, still hidden.
    await finished(direction(91));
    expect((await getStyleRecord(f.db, hidden))?.indexedAt).toBeInstanceOf(Date);
    expect(ids(await search({ embedding: direction(90) }))).not.toContain(hidden);
    const res = await f.call("/v1/search", { method: "POST", json: { generation: hidden } });
    await expectError(res, 404, "not_found_error", "generation_not_found");
  });

  it("embeds text through a region, once per text, for POST and GET", async () => {
    const forest = await finished(direction(40));
    const before = region.textQueries.length;
    expect(ids(await search({ text: "a misty forest" }))[0]).toBe(forest);
    const res = await f.call(`/v1/search?q=${encodeURIComponent("a  Misty forest")}&limit=1`);
    expect(res.status).toBe(200);
    expect(ids(SearchResults.parse(await res.json()))).toEqual([forest]);
    // The same text (normalised) is answered from the edge's cache.
    expect(region.textQueries.length - before).toBe(1);
  });

  it("refuses malformed queries with the envelope", async () => {
    const bad: Array<[unknown, string?]> = [
      [{}],
      [{ embedding: direction(3), text: "x" }],
      [{ embedding: [1, 2, 3] }],
      [{ embedding: new Array<number>(STYLE_EMBEDDING_DIMS).fill(0) }, "invalid_embedding"],
      [{ embedding: direction(3), limit: 51 }],
      [{ text: "   " }],
      [{ embedding: direction(3), from: "yesterday" }],
      [{ embedding: direction(3), cursor: "bm90IGEgY3Vyc29y" }, "invalid_cursor"],
      [{ generation: "gen_nope" }],
    ];
    for (const [body, code] of bad) {
      const res = await f.call("/v1/search", { method: "POST", json: body });
      await expectError(res, 400, "invalid_request_error", code);
    }
    // A cursor of one query does not page another.
    const page = await search({ embedding: direction(3), limit: 1 });
    const other = await f.call("/v1/search", {
      method: "POST",
      json: { embedding: direction(4), limit: 1, cursor: page.next_cursor },
    });
    await expectError(other, 400, "invalid_request_error", "invalid_cursor");
    await expectError(await f.call("/v1/search?q="), 400, "invalid_request_error");
    await expectError(await f.call("/v1/search", { key: null }), 401, "authentication_error");
  });
});

describe("text search without a region that can draw it", () => {
  it("answers 503 with Retry-After, and the embedding and output queries still work", async () => {
    const mute = await startRegionStandIn({
      name: "us-east",
      lat: 39,
      lon: -77,
      secret: TEST_SECRETS.regionSigning,
    });
    const edge = await createEdgeFixture({ regions: [mute.config] });
    try {
      const res = await edge.call("/v1/search?q=forest");
      await expectError(res, 503, "overloaded_error", "no_region_available");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      const byVector = await edge.call("/v1/search", {
        method: "POST",
        json: { embedding: direction(3) },
      });
      expect(byVector.status).toBe(200);
    } finally {
      await edge.close();
      await mute.close();
    }
  });
});
