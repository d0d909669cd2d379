import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES, type Scope } from "../../contracts/keys.ts";
import { declaredScope } from "../middleware/scope/index.ts";
import { OPENAPI_PATH } from "../openapi/document.ts";
import { createEdgeFixture, expectError, type EdgeFixture } from "../testing/edge-fixture.ts";
import { seedAccount } from "../testing/seed.ts";

// Every route's scope is stated once, in its OpenAPI `security`, and enforced from there: for
// each documented operation, a key holding every scope but the one it states gets 403
// `missing_scope` naming it, and a key holding only that scope gets past the check.

type Operation = { operationId: string; security?: Record<string, string[]>[] };

let f: EdgeFixture;
let operations: { method: string; path: string; op: Operation }[];

beforeAll(async () => {
  f = await createEdgeFixture({ regions: [] });
  const doc = (await (await f.app.request(OPENAPI_PATH)).json()) as {
    paths: Record<string, Record<string, Operation>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
});
afterAll(() => f.close());

// Path parameters filled with ids of the right shape (unknown ones: the scope check comes first).
const concrete = (path: string) =>
  path
    .replace(
      "{id}",
      path.includes("/projects") ? `proj_${"0".repeat(26)}` : `gen_${"0".repeat(26)}`,
    )
    .replace("{account}", `acct_${"0".repeat(26)}`)
    .replace("{key}", "x.png");

const keyWith = async (scopes: readonly string[]) =>
  (await seedAccount(f.db, { scopes: [...scopes] })).key;

describe("scopes", () => {
  it("every keyed route states at most one scope; the expected ones state theirs", () => {
    const scopes = new Map(
      operations.map(({ op }) => [op.operationId, op.security ? declaredScope(op) : null]),
    );
    expect(Object.fromEntries(scopes)).toMatchObject({
      createGeneration: "generations:write",
      cancelGeneration: "generations:write",
      upscaleGeneration: "generations:write",
      searchStyles: "generations:read",
      searchStylesByText: "generations:read",
      listGenerations: "generations:read",
      getGeneration: "generations:read",
      streamGenerationEvents: "generations:read",
      getUsage: "usage:read",
      listBudgets: "usage:read",
      createProject: "projects:admin",
      updateProject: "projects:admin",
      addProjectMember: "projects:admin",
      listProjects: "generations:read",
      streamProjectEvents: "generations:read",
      createKey: "keys:admin",
      listKeys: "keys:admin",
      revokeKey: "keys:admin",
      getPricing: null,
      listModels: null,
    });
  });

  it("a key without a route's scope gets 403 missing_scope naming it, on every route", async () => {
    const checked: string[] = [];
    for (const { method, path, op } of operations) {
      const scope = op.security ? declaredScope(op) : null;
      if (scope === null) continue;
      const key = await keyWith(SCOPES.filter((s) => s !== scope));
      const res = await f.call(concrete(path), {
        method,
        key,
        ...(["POST", "PUT", "PATCH"].includes(method) && { json: {} }),
      });
      const error = await expectError(res, 403, "permission_error", "missing_scope");
      expect(error.message, `${method} ${path}`).toContain(`'${scope}'`);
      checked.push(`${method} ${path}`);
    }
    expect(checked.length).toBeGreaterThanOrEqual(15);
  });

  it("a key with only the route's scope gets past the check", async () => {
    for (const { method, path, op } of operations) {
      const scope: Scope | null = op.security ? declaredScope(op) : null;
      if (scope === null) continue;
      const res = await f.call(concrete(path), {
        method,
        key: await keyWith([scope]),
        ...(["POST", "PUT", "PATCH"].includes(method) && { json: {} }),
      });
      if (res.status === 403) {
        const body = (await res.json()) as { error: { code: string } };
        expect(body.error.code, `${method} ${path}`).not.toBe("missing_scope");
      } else {
        await res.body?.cancel();
      }
    }
  });

  it("keys made before scopes (or by the admin CLI) hold every scope", async () => {
    const key = await keyWith(["*"]);
    expect((await f.call("/v1/usage", { key })).status).toBe(200);
    expect((await f.call("/v1/keys", { key })).status).toBe(200);
  });
});
