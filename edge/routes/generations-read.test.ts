import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { createProject } from "../../db/queries/projects.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount } from "../testing/seed.ts";

let f: EdgeFixture;
let eu: RegionStandIn;
const ids: string[] = [];
let projectId: string;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  let now = Date.now();
  // One ms apart, so "newest first" is well defined.
  f = await createEdgeFixture({ regions: [eu.config], clock: () => (now += 1) });
  projectId = (await createProject(f.db, { accountId: f.owner.account.id, name: "p" })).id;
  for (let i = 0; i < 5; i++) {
    const json = { prompt: `number ${i}`, ...(i % 2 === 0 && { project: projectId }) };
    const res = await f.call("/v1/generations", { method: "POST", json });
    const body = await res.json();
    if (res.status !== 202) throw new Error(JSON.stringify(body));
    ids.push(body.id);
  }
});
afterAll(async () => {
  await f.close();
  await eu.close();
});

describe("GET /v1/generations/:id", () => {
  it("returns the caller's generation", async () => {
    const res = await f.call(`/v1/generations/${ids[0]}`);
    expect(res.status).toBe(200);
    expect(Generation.parse(await res.json())).toMatchObject({
      id: ids[0],
      prompt: "number 0",
      status: "queued",
    });
  });

  it("answers 404 for another account's id, an unknown id and a malformed id alike", async () => {
    const stranger = await seedAccount(f.db);
    await expectError(
      await f.call(`/v1/generations/${ids[0]}`, { key: stranger.key }),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(
      await f.call(`/v1/generations/gen_${"0".repeat(26)}`),
      404,
      "not_found_error",
      "generation_not_found",
    );
    await expectError(await f.call("/v1/generations/../../etc"), 404, "not_found_error");
    await expectError(
      await f.call("/v1/generations/not-an-id"),
      404,
      "not_found_error",
      "generation_not_found",
    );
  });

  it("needs a key", async () => {
    await expectError(
      await f.call(`/v1/generations/${ids[0]}`, { key: null }),
      401,
      "authentication_error",
      "missing_api_key",
    );
  });
});

describe("GET /v1/generations", () => {
  it("lists newest first and pages with next_cursor", async () => {
    const first = GenerationList.parse(await (await f.call("/v1/generations?limit=2")).json());
    expect(first.data.map((g) => g.id)).toEqual([ids[4], ids[3]]);
    expect(first.next_cursor).not.toBeNull();
    const second = GenerationList.parse(
      await (await f.call(`/v1/generations?limit=2&cursor=${first.next_cursor}`)).json(),
    );
    expect(second.data.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    const last = GenerationList.parse(
      await (await f.call(`/v1/generations?limit=2&cursor=${second.next_cursor}`)).json(),
    );
    expect(last.data.map((g) => g.id)).toEqual([ids[0]]);
    expect(last.next_cursor).toBeNull();
  });

  it("filters by project and status", async () => {
    const byProject = await (await f.call(`/v1/generations?project=${projectId}`)).json();
    expect(byProject.data.map((g: { id: string }) => g.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await (await f.call("/v1/generations?status=succeeded")).json()).data).toEqual([]);
    expect((await (await f.call("/v1/generations?status=queued")).json()).data).toHaveLength(5);
  });

  it("shows only the caller's own generations", async () => {
    const stranger = await seedAccount(f.db);
    const res = await f.call("/v1/generations", { key: stranger.key });
    expect(await res.json()).toEqual({ object: "list", data: [], next_cursor: null });
  });

  it.each([
    ["limit=0", "parameter_out_of_range", "limit"],
    ["limit=101", "parameter_out_of_range", "limit"],
    ["limit=ten", "invalid_type", "limit"],
    ["status=done", "invalid_value", "status"],
    ["order=asc", "unknown_parameter", "order"],
    ["cursor=bm9wZQ", "invalid_cursor", "cursor"],
    // A timestamp past the range of a Date (8.64e15 ms): was a 500 from toISOString.
    [`cursor=${btoa(JSON.stringify([1e20, "gen_x"]))}`, "invalid_cursor", "cursor"],
    [`cursor=${btoa(JSON.stringify([8.64e15 + 1, "gen_x"]))}`, "invalid_cursor", "cursor"],
  ])("?%s -> 400 %s", async (query, code, param) => {
    const error = await expectError(
      await f.call(`/v1/generations?${query}`),
      400,
      "invalid_request_error",
      code,
    );
    expect(error.param).toBe(param);
  });
});

describe("other routes", () => {
  it("GET /healthz answers ok with region health, without a key", async () => {
    const res = await f.call("/healthz", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({
      ok: true,
      environment: "development",
      regions: [{ name: "eu-west", health: "unknown" }],
    });
  });

  it("unknown routes and methods answer the 404 envelope", async () => {
    await expectError(await f.call("/v2/anything"), 404, "not_found_error", "route_not_found");
    await expectError(
      await f.call("/v1/generations", { method: "DELETE" }),
      404,
      "not_found_error",
    );
  });
});
