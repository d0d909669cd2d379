import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiClient,
  type ApiClient,
  type ApiSchemas,
} from "../../contracts/client/api-client.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import { Generation } from "../../contracts/api.ts";
import { readEvents } from "../../edge/testing/sse.ts";
import {
  removeDataDir,
  startLocalStack,
  type LocalEdgeKind,
  type RunningStack,
} from "./local-stack.ts";
import { descendantsOf, stillRunning, type ProcessInfo } from "./process-tree.ts";

// The walking skeleton end to end, one suite for every edge the local stack can run (`npm start`:
// Node; `npm run dev:worker`: the Worker under wrangler dev; `npm run dev:deno`), so they cannot
// drift apart: a key from
// the admin CLI, a prompt in at the edge, an image out of a regional node, fetched back through the
// edge; the event stream, cancel, the plan's limits, the error envelopes, the welcome's curl and
// `npm run smoke`; then Ctrl-C. Calls go through the typed client generated from /openapi.json
// (contracts/client), as an API consumer's would; raw fetch only for what a typed client cannot send
// (malformed bodies, bad keys), for event streams and for output URLs.

/**
 * Regions hold a lone job this long before running it (waiting for batch-mates), so a generation
 * stays queued long enough to be canceled, or to hold the free plan's one concurrency slot. A batch
 * needs room for mates to wait for: on CPU a node runs one job per batch by default.
 */
const QUEUED_FOR_MS = 1_500;

export function walkingSkeleton(edge: LocalEdgeKind): void {
  let stack: RunningStack;
  let key: string;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await startLocalStack(
      { MAX_BATCH: "4", MAX_BATCH_DELAY_MS: String(QUEUED_FOR_MS), LOG_LEVEL: "info" },
      undefined,
      edge,
    );
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
    await stack.stop();
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

  describe(`walking skeleton on the local stack, edge: ${edge}`, () => {
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

    it("styles, searches and upscales through the typed client", async () => {
      const size = { width: 128, height: 128 };
      const reference = Generation.parse(
        (await generate({ prompt: "golden desert dunes", seed: 7, ...size })).body,
      );
      const styled = Generation.parse(
        (
          await generate({
            prompt: "green mossy forest",
            seed: 3,
            ...size,
            style: { reference: reference.id, strength: 0.7 },
          })
        ).body,
      );
      expect(styled).toMatchObject({ status: "succeeded", style: { reference: reference.id } });
      // The index takes new outputs just after they succeed.
      let found: string[] = [];
      for (let tries = 0; tries < 50 && !found.includes(styled.id); tries++) {
        const { data } = await api.POST("/v1/search", { body: { generation: reference.id } });
        found = data?.data.map((r) => r.generation.id) ?? [];
        if (!found.includes(styled.id)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toContain(styled.id);
      const byText = await api.GET("/v1/search", {
        params: { query: { q: "golden desert dunes", limit: 5 } },
      });
      expect(byText.response.status).toBe(200);
      expect(byText.data?.data.map((r) => r.generation.id)).toContain(reference.id);
      const up = await api.POST("/v1/generations/{id}/upscale", {
        params: { path: { id: reference.id }, header: { Prefer: "wait=60" } },
        body: { factor: 2 },
      });
      expect(up.response.status).toBe(200);
      expect(up.data).toMatchObject({
        status: "succeeded",
        parent_id: reference.id,
        output: { width: 256, height: 256 },
      });
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
      [
        "unknown field",
        JSON.stringify({ prompt: "x", colour: "red" }),
        400,
        "invalid_request_error",
      ],
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
        headers: {
          "content-type": "application/json",
          ...(authorization ? { authorization } : {}),
        },
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

    it("runs the welcome's curl unchanged", async () => {
      const curl = stack.welcomeCurl();
      expect(curl).toContain(`${stack.edgeUrl}/v1/generations`);
      const { stdout } = await promisify(execFile)("sh", ["-c", curl]);
      const gen = Generation.parse(JSON.parse(stdout));
      expect(gen).toMatchObject({ status: "succeeded", params: { seed: 42 } });
      expect((await fetch(gen.output!.url)).headers.get("content-type")).toBe("image/png");
    });

    it("streams a generation's events until its terminal state", async () => {
      const { data, response } = await api.POST("/v1/generations", {
        body: { prompt: "a lighthouse in fog", width: 64, height: 64, seed: randomInt(2 ** 32) },
      });
      expect(response.status).toBe(202);
      const id = Generation.parse(data).id;
      const res = await fetch(`${stack.edgeUrl}/v1/generations/${id}/events`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const events = readEvents(res.body!);
      const seen: Array<{ event: string; generation: Generation }> = [];
      for (let e = await events.next(60_000); e; e = await events.next(60_000)) {
        seen.push({ event: e.event, generation: Generation.parse(JSON.parse(e.data)) });
      }
      const names = seen.map((e) => e.event);
      // The current state first, then each change in order; the stream ends after the terminal one.
      const order = ["queued", "routed", "running", "succeeded"];
      expect(names.map((n) => order.indexOf(n))).toEqual(
        [...names.map((n) => order.indexOf(n))].sort((a, b) => a - b),
      );
      expect(names).toContain("running");
      expect(names.at(-1)).toBe("succeeded");
      expect(seen.every((e) => e.generation.id === id)).toBe(true);
      expect(seen.at(-1)!.generation.output?.content_type).toBe("image/png");
    });

    it("enforces the free plan's limits; cancel frees the concurrency slot", async () => {
      const created = await stack.admin([
        "create-account",
        "--name",
        "Free Co",
        "--plan",
        "free",
        "--test",
        "--json",
      ]);
      expect(created.code, created.stderr).toBe(0);
      const free = createApiClient({
        baseUrl: stack.edgeUrl,
        apiKey: (JSON.parse(created.stdout) as { key: string }).key,
      });
      const submit = (body: Partial<ApiSchemas["CreateGenerationRequest"]> = {}) =>
        free.POST("/v1/generations", {
          body: { prompt: "a paper boat on a pond", width: 64, height: 64, ...body },
        });

      const fast = await submit({ priority: "fast" });
      expect(fast.response.status).toBe(403);
      expect(fast.error?.error).toMatchObject({
        type: "permission_error",
        code: "priority_not_allowed",
      });
      const large = await submit({ width: 2048, height: 2048 });
      expect(large.response.status).toBe(400);
      expect(large.error?.error.code).toBe("max_pixels_exceeded");

      // The first takes the plan's one slot; its region holds it queued for QUEUED_FOR_MS.
      const first = await submit();
      expect(first.response.status).toBe(202);
      expect(first.response.headers.get("ratelimit-limit")).toBe("10");
      const held = Generation.parse(first.data);
      const second = await submit();
      expect(second.response.status).toBe(429);
      expect(second.error?.error).toMatchObject({
        type: "rate_limit_error",
        code: "concurrency_limit_exceeded",
      });
      expect(Number(second.response.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(second.response.headers.get("ratelimit-policy")).toContain('"concurrency";q=1');

      const canceled = await free.POST("/v1/generations/{id}/cancel", {
        params: { path: { id: held.id } },
      });
      expect(canceled.response.status, JSON.stringify(canceled.error)).toBe(200);
      expect(Generation.parse(canceled.data).status).toBe("canceled");
      // Its event stream is the terminal state alone, and ends.
      const stream = await fetch(`${stack.edgeUrl}/v1/generations/${held.id}/events`, {
        headers: { authorization: `Bearer ${(JSON.parse(created.stdout) as { key: string }).key}` },
      });
      const events = readEvents(stream.body!);
      expect((await events.next(10_000))?.event).toBe("canceled");
      expect(await events.next(10_000)).toBeNull();

      // The slot is free again: the next one runs to the end; a finished one cannot be canceled.
      const third = await free.POST("/v1/generations", {
        body: { prompt: "a paper boat on a pond", width: 64, height: 64 },
        params: { header: { Prefer: "wait=60" } },
      });
      expect(third.response.status, JSON.stringify(third.error)).toBe(200);
      const done = Generation.parse(third.data);
      expect(done.status).toBe("succeeded");
      const late = await free.POST("/v1/generations/{id}/cancel", {
        params: { path: { id: done.id } },
      });
      expect(late.response.status).toBe(409);
      expect(late.error?.error.code).toBe("generation_already_finished");
      // The canceled one stayed canceled although its region ran the batch it was taken into.
      const after = await free.GET("/v1/generations/{id}", { params: { path: { id: held.id } } });
      expect(Generation.parse(after.data).status).toBe("canceled");
    });

    it.runIf(edge === "worker")(
      "runs the Worker's cron trigger, as the stack does each minute",
      async () => {
        const res = await fetch(`${stack.edgeUrl}/cdn-cgi/local/scheduled`);
        expect(res.status, await res.text()).toBe(200);
      },
    );

    it("passes `npm run smoke` against the edge", async () => {
      const smoke = await stack.run("scripts/smoke.ts", [stack.edgeUrl], { SMOKE_API_KEY: key });
      expect(smoke.code, `${smoke.stdout}\n${smoke.stderr}`).toBe(0);
      expect(smoke.stdout).toMatch(/ok {2}image revalidation/);
    });

    it("shows the edge's request log lines at LOG_LEVEL=info, never a prompt", () => {
      expect(stack.output()).toMatch(/"msg":"request"[^\n]*"path":"\/v1\/generations"/);
      expect(stack.output()).not.toContain("green moss");
    });

    it("stops everything on Ctrl-C, leaving no process and no stack file behind", async () => {
      const started: ProcessInfo[] = descendantsOf(stack.child.pid!);
      // Not vacuous: the regions, and the edge's runtime where it is a child process, were running.
      expect(started.filter((p) => p.command.includes("regional-gpu/main.ts"))).toHaveLength(3);
      const runtime = { node: null, worker: /workerd serve/, deno: /deno run/ }[edge];
      if (runtime) expect(started.some((p) => runtime.test(p.command))).toBe(true);
      expect(await stack.stop()).toBe(0);
      expect(stack.output()).toMatch(/stopped\.\n?$/);
      expect(existsSync(join(stack.dataDir, "stack.json"))).toBe(false);
      await expect.poll(() => stillRunning(started), { timeout: 5_000 }).toEqual([]);
    }, 60_000);
  });
}
