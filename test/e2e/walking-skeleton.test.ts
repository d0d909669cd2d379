import { existsSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiClient,
  type ApiClient,
  type ApiSchemas,
} from "../../contracts/client/api-client.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import { Generation } from "../../contracts/api.ts";
import { removeDataDir, startLocalStack, type RunningStack } from "./local-stack.ts";

// The walking skeleton end to end: `npm start`'s stack, a key from the admin CLI, a prompt in at the
// edge, an image out of a regional node, fetched back through the edge. Calls go through the typed
// client generated from /openapi.json (contracts/client), as an API consumer's would; raw fetch only
// for what a typed client cannot send (malformed bodies, bad keys) and for output URLs.

let stack: RunningStack;
let key: string;
let api: ApiClient;

beforeAll(async () => {
  stack = await startLocalStack();
  const created = await stack.admin([
    "create-account",
    "--name",
    "E2E Co",
    "--plan",
    "pro",
    "--json",
  ]);
  expect(created.code, created.stderr).toBe(0);
  key = (JSON.parse(created.stdout) as { key: string }).key;
  api = createApiClient({ baseUrl: stack.edgeUrl, apiKey: key });
}, 180_000);

afterAll(async () => {
  if (!stack) return;
  const code = await stack.stop();
  expect(code).toBe(0);
  expect(existsSync(join(stack.dataDir, "stack.json"))).toBe(false);
  await removeDataDir(stack.dataDir);
}, 60_000);

async function generate(body: ApiSchemas["CreateGenerationRequest"]) {
  const { data, error, response } = await api.POST("/v1/generations", {
    body,
    params: { header: { Prefer: "wait=60" } },
  });
  return { res: response, body: data ?? error };
}

async function fetchImage(url: string) {
  const res = await fetch(new URL(url, stack.edgeUrl));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("image/png");
  return new Uint8Array(await res.arrayBuffer());
}

describe("walking skeleton on the embedded default", () => {
  it("prints a development key that works", async () => {
    const dev = createApiClient({ baseUrl: stack.edgeUrl, apiKey: stack.devKey });
    const { data, response } = await dev.GET("/v1/generations", {
      params: { query: { limit: 1 } },
    });
    expect(response.status).toBe(200);
    expect(data?.object).toBe("list");
  });

  it("serves the OpenAPI document the typed client was generated from", async () => {
    const res = await fetch(`${stack.edgeUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/v1/generations");
  });

  it("generates an image through edge -> region -> object store -> edge", async () => {
    const { res, body } = await generate({
      prompt: "a quiet harbour at dawn, teal and amber",
      seed: 42,
      width: 256,
      height: 192,
    });
    expect(res.status, JSON.stringify(body)).toBe(200);
    const gen = Generation.parse(body);
    expect(gen.status).toBe("succeeded");
    expect(gen.region).toMatch(/^(us-east|eu-west|ap-southeast)$/);
    expect(gen.cost.gpu_ms).toBeGreaterThan(0);
    expect(gen.output).not.toBeNull();

    const bytes = await fetchImage(gen.output!.url);
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([256, 192, 3]);
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    const variance = data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length;
    expect(variance).toBeGreaterThan(100); // not a flat image

    const again = await generate({
      prompt: "a quiet harbour at dawn, teal and amber",
      seed: 42,
      width: 256,
      height: 192,
    });
    const gen2 = Generation.parse(again.body);
    expect(gen2.id).not.toBe(gen.id);
    expect(Buffer.from(await fetchImage(gen2.output!.url))).toEqual(Buffer.from(bytes));
    expect(gen2.output!.sha256).toBe(gen.output!.sha256);

    const other = Generation.parse(
      (
        await generate({
          prompt: "green moss on a forest floor",
          seed: 42,
          width: 256,
          height: 192,
        })
      ).body,
    );
    expect(other.output!.sha256).not.toBe(gen.output!.sha256);

    const read = await api.GET("/v1/generations/{id}", { params: { path: { id: gen.id } } });
    expect(read.response.status).toBe(200);
    expect(Generation.parse(read.data).output?.sha256).toBe(gen.output!.sha256);

    const listed = await api.GET("/v1/generations", { params: { query: { limit: 5 } } });
    expect(listed.data?.data.map((g) => g.id)).toContain(gen.id);

    const missing = await api.GET("/v1/generations/{id}", {
      params: { path: { id: "gen_00000000000000000000000000" } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe("generation_not_found");
  });

  it("answers a bad body sent through the typed client with the envelope", async () => {
    const { error, response } = await api.POST("/v1/generations", {
      body: { prompt: "x", width: 100 },
    });
    expect(response.status).toBe(400);
    expect(error?.error).toMatchObject({ type: "invalid_request_error", param: "width" });
  });

  it.each([
    ["malformed JSON", "{not json", 400, "invalid_request_error"],
    ["unknown field", JSON.stringify({ prompt: "x", colour: "red" }), 400, "invalid_request_error"],
    [
      "width out of range",
      JSON.stringify({ prompt: "x", width: 4096 }),
      400,
      "invalid_request_error",
    ],
    [
      "width not a multiple of 64",
      JSON.stringify({ prompt: "x", width: 100 }),
      400,
      "invalid_request_error",
    ],
    ["missing prompt", JSON.stringify({ seed: 1 }), 400, "invalid_request_error"],
  ])("answers %s with the documented envelope", async (_name, body, status, type) => {
    const res = await fetch(`${stack.edgeUrl}/v1/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(status);
    const err = ErrorBody.parse(await res.json());
    expect(err.error.type).toBe(type);
    expect(err.error.request_id).toBe(res.headers.get("x-request-id"));
  });

  it.each([
    ["no key", undefined],
    ["a malformed key", "Bearer nope"],
    ["an unknown key", "Bearer gk_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"],
  ])("answers %s with 401", async (_name, authorization) => {
    const res = await fetch(`${stack.edgeUrl}/v1/generations`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ prompt: "x" }),
    });
    expect(res.status).toBe(401);
    expect(ErrorBody.parse(await res.json()).error.type).toBe("authentication_error");
  });

  it("refuses a revoked key", async () => {
    const created = await stack.admin(["create-account", "--name", "Revoked Co", "--json"]);
    const {
      key: k,
      key_id,
      account,
    } = JSON.parse(created.stdout) as {
      key: string;
      key_id: string;
      account: { id: string };
    };
    const revoked = await stack.admin(["revoke-key", "--account", account.id, "--key", key_id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const res = await fetch(`${stack.edgeUrl}/v1/generations`, {
      headers: { authorization: `Bearer ${k}` },
    });
    expect(res.status).toBe(401);
  });
});
