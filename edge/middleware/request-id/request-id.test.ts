import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../app-env.ts";
import { ApiError, errorHandler, notFoundHandler } from "../../errors/index.ts";
import { requestId } from "./index.ts";

const app = new Hono<AppEnv>();
app.use(requestId());
app.get("/json", (c) => c.json({ id: c.var.requestId }));
app.get("/raw", () => new Response("raw body"));
app.get("/fails", () => {
  throw new ApiError({ type: "permission_error", code: "nope", message: "no" });
});
app.get("/bug", () => {
  throw new Error("boom");
});
app.onError(errorHandler(() => {}));
app.notFound(notFoundHandler);

describe("requestId", () => {
  it("generates a req_ id and puts it on the response and in c.var", async () => {
    const res = await app.request("/json");
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    expect(await res.json()).toEqual({ id });
  });

  it("keeps a well-formed incoming id", async () => {
    const res = await app.request("/json", { headers: { "x-request-id": "trace-1234:abcd" } });
    expect(res.headers.get("x-request-id")).toBe("trace-1234:abcd");
  });

  it.each(["short", "has space inside", "x".repeat(200), "semi;colon-12345"])(
    "replaces a malformed incoming id %j",
    async (incoming) => {
      const res = await app.request("/json", { headers: { "x-request-id": incoming } });
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    },
  );

  it("is set on raw responses, errors, bugs and unknown routes, and matches the envelope", async () => {
    for (const [path, status] of [
      ["/raw", 200],
      ["/fails", 403],
      ["/bug", 500],
      ["/nowhere", 404],
    ] as const) {
      const res = await app.request(path);
      expect(res.status).toBe(status);
      const id = res.headers.get("x-request-id");
      expect(id).toMatch(/^req_/);
      if (status !== 200) expect((await res.json()).error.request_id).toBe(id);
    }
  });

  it("hides the cause of a bug behind api_error", async () => {
    const body = await (await app.request("/bug")).json();
    expect(body.error).toMatchObject({
      type: "api_error",
      code: "internal_error",
      message: "internal error",
    });
    expect(JSON.stringify(body)).not.toContain("boom");
  });
});
