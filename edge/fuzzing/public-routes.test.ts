import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "../../contracts/errors.ts";
import { createEdgeFixture, TEST_SECRETS, type EdgeFixture } from "../testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { body, headers, query, segment } from "./arbitraries.ts";

// Property: whatever a client sends to a public route, the edge never answers 5xx, every 4xx
// carries the error envelope with the request id of the X-Request-Id header.

const RUNS = 200;
const SEED = 20261127;

let f: EdgeFixture;
let eu: RegionStandIn;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    // Text search asks a region: this one answers, so valid queries reach the index.
    textStyle: () => Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0)),
  });
  f = await createEdgeFixture({ regions: [eu.config] });
});
afterAll(async () => {
  await f?.close();
  await eu?.close();
});

interface Route {
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  path: fc.Arbitrary<string>;
  withBody?: boolean;
}

const ROUTES: Route[] = [
  {
    name: "POST /v1/generations",
    method: "POST",
    path: fc.constant("/v1/generations"),
    withBody: true,
  },
  { name: "GET /v1/generations", method: "GET", path: fc.constant("/v1/generations") },
  {
    name: "GET /v1/generations/:id",
    method: "GET",
    path: segment("gen").map((id) => `/v1/generations/${id}`),
  },
  {
    name: "GET /v1/generations/:id/events",
    method: "GET",
    path: segment("gen").map((id) => `/v1/generations/${id}/events`),
  },
  {
    name: "POST /v1/generations/:id/cancel",
    method: "POST",
    path: segment("gen").map((id) => `/v1/generations/${id}/cancel`),
    withBody: true,
  },
  {
    name: "POST /v1/generations/:id/feedback",
    method: "POST",
    path: segment("gen").map((id) => `/v1/generations/${id}/feedback`),
    withBody: true,
  },
  {
    name: "DELETE /v1/generations/:id/feedback",
    method: "DELETE",
    path: segment("gen").map((id) => `/v1/generations/${id}/feedback`),
  },
  { name: "GET /v1/feedback", method: "GET", path: fc.constant("/v1/feedback") },
  {
    name: "POST /v1/generations/:id/refine",
    method: "POST",
    path: segment("gen").map((id) => `/v1/generations/${id}/refine`),
    withBody: true,
  },
  {
    name: "GET /v1/assets/:key",
    method: "GET",
    path: segment("asset").map((k) => `/v1/assets/${k}`),
  },
  {
    name: "OPTIONS /v1/*",
    method: "OPTIONS",
    path: segment("gen").map((id) => `/v1/generations/${id}`),
  },
  {
    name: "GET /v1/generations/:id/webhook_deliveries",
    method: "GET",
    path: segment("gen").map((id) => `/v1/generations/${id}/webhook_deliveries`),
  },
  { name: "GET /v1/webhooks/secret", method: "GET", path: fc.constant("/v1/webhooks/secret") },
  {
    name: "POST /v1/generations/:id/upscale",
    method: "POST",
    path: segment("gen").map((id) => `/v1/generations/${id}/upscale`),
    withBody: true,
  },
  { name: "POST /v1/search", method: "POST", path: fc.constant("/v1/search"), withBody: true },
  { name: "GET /v1/search", method: "GET", path: fc.constant("/v1/search") },
  { name: "GET /v1/models", method: "GET", path: fc.constant("/v1/models") },
  { name: "GET /v1/regions", method: "GET", path: fc.constant("/v1/regions") },
  { name: "GET /healthz", method: "GET", path: fc.constant("/healthz") },
  { name: "GET /v1/pricing", method: "GET", path: fc.constant("/v1/pricing") },
  { name: "POST /v1/keys", method: "POST", path: fc.constant("/v1/keys"), withBody: true },
  { name: "GET /v1/keys", method: "GET", path: fc.constant("/v1/keys") },
  {
    name: "DELETE /v1/keys/:id",
    method: "DELETE",
    path: segment("key").map((id) => `/v1/keys/${id}`),
  },
  { name: "POST /v1/projects", method: "POST", path: fc.constant("/v1/projects"), withBody: true },
  { name: "GET /v1/projects", method: "GET", path: fc.constant("/v1/projects") },
  {
    name: "GET /v1/projects/:id",
    method: "GET",
    path: segment("proj").map((id) => `/v1/projects/${id}`),
  },
  {
    name: "PATCH /v1/projects/:id",
    method: "PATCH",
    path: segment("proj").map((id) => `/v1/projects/${id}`),
    withBody: true,
  },
  {
    name: "POST /v1/projects/:id/members",
    method: "POST",
    path: segment("proj").map((id) => `/v1/projects/${id}/members`),
    withBody: true,
  },
  {
    name: "DELETE /v1/projects/:id/members/:account",
    method: "DELETE",
    path: fc
      .tuple(segment("proj"), segment("acct"))
      .map(([id, account]) => `/v1/projects/${id}/members/${account}`),
  },
  {
    name: "GET /v1/projects/:id/events",
    method: "GET",
    path: segment("proj").map((id) => `/v1/projects/${id}/events`),
  },
  { name: "GET /v1/usage", method: "GET", path: fc.constant("/v1/usage") },
  { name: "GET /v1/budgets", method: "GET", path: fc.constant("/v1/budgets") },
  {
    name: "PUT /v1/budgets/account",
    method: "PUT",
    path: fc.constant("/v1/budgets/account"),
    withBody: true,
  },
  {
    name: "DELETE /v1/budgets/account",
    method: "DELETE",
    path: fc.constant("/v1/budgets/account"),
  },
  { name: "GET / (playground)", method: "GET", path: fc.constant("/") },
  { name: "GET /dashboard", method: "GET", path: fc.constant("/dashboard") },
  {
    name: "GET /static/:name",
    method: "GET",
    path: segment("static").map((name) => `/static/${name}`),
  },
  { name: "GET /openapi.json", method: "GET", path: fc.constant("/openapi.json") },
  { name: "GET /docs", method: "GET", path: fc.constant("/docs") },
  {
    name: "POST /internal/regions/:region/events",
    method: "POST",
    path: segment("reg").map((r) => `/internal/regions/${r}/events`),
    withBody: true,
  },
  {
    name: "POST /internal/regions/:region/heartbeat",
    method: "POST",
    path: segment("reg").map((r) => `/internal/regions/${r}/heartbeat`),
    withBody: true,
  },
  {
    name: "unknown routes",
    method: "DELETE",
    path: segment("x").map((s) => `/v1/${s}`),
    withBody: true,
  },
];

async function expectWellFormed(res: Response, sent: string) {
  const requestId = res.headers.get("x-request-id");
  expect(requestId, sent).toMatch(/^\S{8,}$/);
  expect(res.status, sent).toBeLessThan(500);
  if (res.status >= 400) {
    const parsed = ErrorBody.safeParse(await res.json().catch(() => null));
    expect(parsed.success, sent).toBe(true);
    expect(parsed.data?.error.request_id, sent).toBe(requestId);
  } else {
    await res.body?.cancel();
  }
}

describe("fuzzing the public routes", () => {
  for (const route of ROUTES) {
    it(`${route.name}: never 5xx, always the error envelope`, async () => {
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(
          route.path,
          query,
          headers(f.owner.key),
          route.withBody ? body : fc.constant(undefined),
          async (path, q, h, b) => {
            const url = path + q;
            let request: Request;
            try {
              request = new Request(`http://localhost${url}`, {
                method: route.method,
                headers: h,
                ...(b !== undefined && { body: b }),
              });
            } catch {
              // A URL the Fetch API itself refuses never reaches any server.
              return;
            }
            const res = await f.app.request(request);
            statuses.add(res.status);
            await expectWellFormed(
              res,
              `${route.method} ${url} ${JSON.stringify(h)} ${b?.slice(0, 200)}`,
            );
          },
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      // The inputs must reach past validation, not only bounce off it.
      if (route.name === "POST /v1/generations") expect(statuses).toContain(202);
      if (route.name === "GET /v1/generations") expect(statuses).toContain(200);
      if (route.name === "POST /v1/search") expect(statuses).toContain(200);
      if (route.name === "GET /v1/feedback") expect(statuses).toContain(200);
    }, 60_000);
  }
});
