import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { referenceModel, type TestModel } from "./testing/reference-model.ts";

// The entry as a child process configured by environment variables, the way `npm start` runs it.

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
let model: TestModel;
let dir: string;

beforeAll(async () => {
  model = await referenceModel();
  dir = await mkdtemp(join(tmpdir(), "region-main-"));
});
// A test that fails before its node exits must not leave the node running.
const launched: ChildProcess[] = [];
afterEach(() => {
  for (const child of launched.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function launch(env: Record<string, string>, withChannel = false) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe", ...(withChannel ? (["ipc"] as const) : [])],
  }) as ChildProcessByStdio<null, Readable, Readable>;
  launched.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const line = (msg: string) =>
    new Promise<Record<string, unknown>>((done, fail) => {
      const check = () => {
        const found = lines.find((l) => l.msg === msg);
        if (found) return done(found);
        waiters.push(check);
      };
      void exited.then(() => fail(new Error(`exited before "${msg}": ${stderr}`)));
      check();
    });
  return { child, lines, line, exited, stderr: () => stderr };
}

describe("node regional-gpu/main.ts", () => {
  const env = () => ({
    REGION_NAME: "ap-south",
    REGION_SIGNING_KEY: "test:main-test-signing-secretxxxxxxxx",
    // Nothing listens there: heartbeats fail (logged), which this test does not look at.
    EDGE_URL: "http://127.0.0.1:9",
    OPS_PORT: "0",
    PORT: "0",
    MODEL_DIR: model.modelsDir,
    WARM_MODELS: model.ref,
    OBJECT_STORE: `file://${join(dir, "objects")}`,
    ORT_EP: "cpu",
  });

  it("starts from env vars, serves, and drains to exit 0 on SIGTERM", async () => {
    const region = launch(env());
    const ready = await region.line("region node ready");
    expect(ready).toMatchObject({ region: "ap-south", execution_provider: "cpu" });
    const health = await fetch(`${ready.url as string}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    const status = await fetch(`${ready.ops_url as string}/status`);
    expect(await status.json()).toMatchObject({ status: "ready", region: "ap-south" });
    region.child.kill("SIGTERM");
    expect(await region.exited).toBe(0);
    expect(region.lines.map((l) => l.msg)).toContain("stopped");
  });

  it("drains to exit 0 when its supervisor's channel closes (the supervisor died)", async () => {
    const region = launch(env(), true);
    await region.line("region node ready");
    // What a SIGKILLed supervisor leaves: the IPC channel closed, no signal.
    region.child.disconnect();
    expect(await region.exited).toBe(0);
    expect(region.lines.map((l) => l.msg)).toContain("stopped");
  });

  it("exits 1 naming every bad variable", async () => {
    const region = launch({ REGION_NAME: "Not A Name", PORT: "http" });
    expect(await region.exited).toBe(1);
    const text = region.stderr();
    expect(text).toContain("REGION_NAME");
    expect(text).toContain("PORT");
    expect(text).toContain("REGION_SIGNING_KEY: is required");
  });
});
