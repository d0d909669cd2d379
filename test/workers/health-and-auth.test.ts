import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../docs/openapi.json" with { type: "json" };
import { edge, errorOf } from "./helpers.ts";

describe("Worker entry: GET /healthz", () => {
  it("answers ok from the isolate's configuration, with a request id", async () => {
    const res = await edge("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await res.json()) as { ok: boolean; environment: string; regions: unknown[] };
    expect(body).toMatchObject({ ok: true, environment: "development" });
    expect(body.regions).toHaveLength(3);
  });

  it("answers unknown routes with the 404 envelope", async () => {
    const res = await edge("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({
      type: "not_found_error",
      request_id: res.headers.get("x-request-id"),
    });
  });
});

describe("Worker entry: the API's own description", () => {
  it("serves /openapi.json as committed (generated from the same route definitions)", async () => {
    const res = await edge("/openapi.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(committed);
  });

  it("serves /docs with its own nonce CSP", async () => {
    const res = await edge("/docs");
    expect(res.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(
      res.headers.get("content-security-policy")!,
    )?.[1];
    expect(await res.text()).toContain(`nonce="${nonce}"`);
  });
});

describe("Worker entry: API keys checked against Postgres through the Neon driver", () => {
  const create = (authorization?: string) =>
    edge("/v1/generations", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(authorization !== undefined && { authorization }),
      },
      body: JSON.stringify({ prompt: "a quiet harbour at dawn" }),
    });

  // "unknown" and "revoked" can only be told apart by reading the api_keys table.
  it.each([
    ["missing", undefined, "missing_api_key"],
    ["malformed", "Bearer not-a-key", "malformed_api_key"],
    ["unknown", "Bearer gk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid_api_key"],
    ["revoked", `Bearer ${env.TEST_REVOKED_API_KEY}`, "revoked_api_key"],
  ])("answers a %s key with 401 and the error envelope", async (_case, authorization, code) => {
    const res = await create(authorization);
    expect(res.status).toBe(401);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_/);
    expect(await errorOf(res)).toMatchObject({
      type: "authentication_error",
      code,
      request_id: requestId,
    });
  });

  it("echoes a well-formed request id the client sent", async () => {
    const res = await edge("/v1/generations", {
      headers: { "x-request-id": "req_client_supplied_1234" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBe("req_client_supplied_1234");
    expect((await errorOf(res)).request_id).toBe("req_client_supplied_1234");
  });
});
