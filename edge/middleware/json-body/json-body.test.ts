import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { CreateGenerationRequest } from "../../../contracts/api.ts";
import type { AppEnv } from "../../app-env.ts";
import { errorHandler } from "../../errors/index.ts";
import { expectError } from "../../testing/edge-fixture.ts";
import { requestId } from "../request-id/index.ts";
import { jsonBody } from "./index.ts";

const app = new Hono<AppEnv>();
app.use(requestId());
app.post("/", jsonBody({ schema: CreateGenerationRequest, maxBytes: 4096 }), (c) =>
  c.json(c.var.body),
);
app.onError(errorHandler(() => {}));

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  Promise.resolve(app.request("/", { method: "POST", body, headers }));
const postJson = (value: unknown) => post(JSON.stringify(value));

describe("jsonBody", () => {
  it("passes the parsed body on, with schema defaults", async () => {
    const res = await postJson({ prompt: "a quiet harbour" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ prompt: "a quiet harbour", width: 512, height: 512 });
  });

  it.each([
    ["{not json", "invalid_json"],
    ["", "invalid_json"],
    ['{"prompt": "a"', "invalid_json"],
  ])("answers 400 invalid_json for %j", async (body, code) => {
    await expectError(await post(body), 400, "invalid_request_error", code);
  });

  it("refuses bytes that are not UTF-8 as invalid_json", async () => {
    await expectError(
      await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
      400,
      "invalid_request_error",
      "invalid_json",
    );
  });

  it("names an unknown field as unknown_parameter", async () => {
    const error = await expectError(
      await postJson({ prompt: "a", colour: "red" }),
      400,
      "invalid_request_error",
      "unknown_parameter",
    );
    expect(error.param).toBe("colour");
    expect(error.message).toBe("unknown parameter: colour");
  });

  it("names unknown nested fields by their path", async () => {
    const error = await expectError(
      await postJson({ prompt: "a", style: { reference: `gen_${"0".repeat(26)}`, wobble: 1 } }),
      400,
      "invalid_request_error",
      "unknown_parameter",
    );
    expect(error.param).toBe("style.wobble");
  });

  it.each([
    [{}, "prompt", "parameter_missing", "prompt is required"],
    [
      { prompt: 3 },
      "prompt",
      "invalid_type",
      "prompt: Invalid input: expected string, received number",
    ],
    [
      { prompt: "x".repeat(2001) },
      "prompt",
      "prompt_too_long",
      "prompt must be at most 2000 characters",
    ],
    [{ prompt: " " }, "prompt", "invalid_parameter", "prompt must not be empty"],
    [{ prompt: "a", width: 4096 }, "width", "parameter_out_of_range", undefined],
    [{ prompt: "a", height: 32 }, "height", "parameter_out_of_range", undefined],
    [{ prompt: "a", width: 100 }, "width", "invalid_parameter", "width: must be a multiple of 64"],
    [{ prompt: "a", width: 64.5 }, "width", "invalid_type", undefined],
    [{ prompt: "a", seed: -1 }, "seed", "parameter_out_of_range", undefined],
    [{ prompt: "a", priority: "asap" }, "priority", "invalid_value", undefined],
    [
      { prompt: "a", webhook: { url: "https://x.test", events: ["done"] } },
      "webhook.events[0]",
      "invalid_value",
      undefined,
    ],
  ])("answers 400 for %j with param and code", async (body, param, code, message) => {
    const error = await expectError(await postJson(body), 400, "invalid_request_error", code);
    expect(error.param).toBe(param);
    if (message !== undefined) expect(error.message).toBe(message);
  });

  it("answers invalid_body for JSON that is not an object", async () => {
    await expectError(await postJson([1, 2]), 400, "invalid_request_error", "invalid_body");
    await expectError(await postJson(null), 400, "invalid_request_error", "invalid_body");
  });

  it("answers 413 for a declared length over the limit without reading the body", async () => {
    const body = JSON.stringify({ prompt: "x".repeat(5000) });
    const res = await post(body, { "content-length": String(body.length) });
    const error = await expectError(res, 413, "invalid_request_error", "body_too_large");
    expect(error.message).toContain("4096 bytes");
  });

  it("answers 413 for a streamed body (no Content-Length) that grows past the limit", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const req = new Request("http://edge.test/", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(req.headers.get("content-length")).toBeNull();
    await expectError(await app.request(req), 413, "invalid_request_error", "body_too_large");
    expect(sent).toBeLessThan(10);
  });
});
