import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation } from "../../contracts/api.ts";
import { startWireGateway } from "../../db/local/wire-gateway.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { keyText } from "../../contracts/region-keys.ts";
import { TEST_SECRETS } from "../testing/edge-fixture.ts";
import { testRegionKey } from "../testing/region-keys.ts";
import { startRegionStandIn, type RegionStandIn } from "../testing/region-stand-in.ts";
import { seedAccount, seedModel, seedRegions } from "../testing/seed.ts";
import { startEdge } from "./node.ts";

/** A complete production configuration (every secret of PRODUCTION_REQUIRED). */
const PRODUCTION_ENV = {
  ENVIRONMENT: "production",
  REGION_SIGNING_KEYS: JSON.stringify({
    "eu-west": { current: keyText(testRegionKey(TEST_SECRETS.regionSigning, "eu-west")) },
  }),
  ASSET_URL_SECRET: TEST_SECRETS.assetUrl,
  API_KEY_PEPPER: "pepper-0123456789",
  WEBHOOK_SECRETS_KEY: `prod:${btoa("p".repeat(32))}`,
  PUBLIC_URL: "https://edge.example",
};

let handle: PgliteHandle;
let region: RegionStandIn;
let dir: string;

beforeAll(async () => {
  handle = await createTestDatabase();
  region = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
    mode: { kind: "complete", bytes: new TextEncoder().encode("a real png would go here") },
  });
  await seedModel(handle.db);
  await seedRegions(handle.db, [region.config]);
  dir = await mkdtemp(join(tmpdir(), "edge-node-"));
});
const after: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of after) await step();
  await region.close();
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

describe("startEdge", () => {
  it("serves the app over HTTP: a generation round trip with a real region callback", async () => {
    const { key } = await seedAccount(handle.db);
    const logs: Record<string, unknown>[] = [];
    const edge = await startEdge({
      port: 0,
      db: handle.db,
      regions: [region.config],
      assetsDir: join(dir, "assets"),
      secrets: TEST_SECRETS,
      environment: "development",
      log: (entry) => logs.push(entry),
      env: {},
    });
    try {
      expect(edge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${edge.url}/v1/generations`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          prefer: "wait=10",
          "content-type": "application/json",
        },
        body: JSON.stringify({ prompt: "over the wire", width: 64, height: 64 }),
      });
      expect(res.status).toBe(200);
      const gen = Generation.parse(await res.json());
      expect(gen.status).toBe("succeeded");
      expect(region.jobs[0]?.callback_url).toBe(`${edge.url}/internal/regions/eu-west/events`);

      const asset = await fetch(gen.output!.url);
      expect(asset.status).toBe(200);
      expect(await asset.text()).toBe("a real png would go here");
      expect(asset.headers.get("x-request-id")).toMatch(/^req_/);
      expect(logs.some((l) => l.msg === "request" && l.path === "/v1/generations")).toBe(true);
      // Prompts never reach the logs.
      expect(JSON.stringify(logs)).not.toContain("over the wire");
    } finally {
      await edge.close();
    }
    await expect(fetch(`${edge.url}/healthz`)).rejects.toThrow();
    expect(logs.at(-1)).toMatchObject({ msg: "edge stopped" });
  });

  it("reads its configuration from the environment", async () => {
    const edge = await startEdge({
      db: handle.db,
      log: () => {},
      env: {
        EDGE_PORT: "0",
        REGIONS: JSON.stringify([region.config]),
        ...PRODUCTION_ENV,
        EDGE_ASSETS_DIR: join(dir, "env-assets"),
      },
    });
    try {
      const health = await (await fetch(`${edge.url}/healthz`)).json();
      expect(health).toMatchObject({
        ok: true,
        environment: "production",
        regions: [{ name: "eu-west" }],
      });
    } finally {
      await edge.close();
    }
  });

  it("fails to start, closing nothing it was lent, when the port is taken", async () => {
    const first = await startEdge({
      port: 0,
      db: handle.db,
      regions: [region.config],
      secrets: TEST_SECRETS,
      environment: "development",
      log: () => {},
      env: {},
    });
    try {
      const port = Number(new URL(first.url).port);
      await expect(
        startEdge({
          port,
          db: handle.db,
          regions: [region.config],
          secrets: TEST_SECRETS,
          environment: "development",
          log: () => {},
          env: {},
        }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.close();
    }
  });

  it("is production unless told otherwise, and then refuses to start naming what is missing", async () => {
    const regions = JSON.stringify([region.config]);
    const error = await startEdge({ db: handle.db, log: () => {}, env: { REGIONS: regions } }).then(
      () => null,
      (err: Error) => err.message,
    );
    for (const name of [
      "REGION_SIGNING_KEYS",
      "ASSET_URL_SECRET",
      "API_KEY_PEPPER",
      "WEBHOOK_SECRETS_KEY",
      "PUBLIC_URL",
    ]) {
      expect(error).toContain(`  ${name}: `);
    }
    // The development shortcut is refused in production, even with everything else set.
    await expect(
      startEdge({
        db: handle.db,
        log: () => {},
        env: {
          REGIONS: regions,
          ...PRODUCTION_ENV,
          REGION_SIGNING_SECRET: TEST_SECRETS.regionSigning,
        },
      }),
    ).rejects.toThrow(/REGION_SIGNING_SECRET: development only/);
    // Options passed in code get the same check of PUBLIC_URL.
    await expect(
      startEdge({ db: handle.db, regions: [region.config], secrets: TEST_SECRETS, env: {} }),
    ).rejects.toThrow(/PUBLIC_URL is required in production/);
  });

  it("refuses a bad configuration with a clear message", async () => {
    const base = { REGION_SIGNING_SECRET: TEST_SECRETS.regionSigning, ENVIRONMENT: "development" };
    await expect(startEdge({ db: handle.db, env: base })).rejects.toThrow(/no regions/);
    await expect(startEdge({ db: handle.db, env: { ...base, REGIONS: "[{" } })).rejects.toThrow(
      /REGIONS: must be JSON/,
    );
    await expect(startEdge({ db: handle.db, env: { ...base, REGIONS: "[]" } })).rejects.toThrow(
      /REGIONS/,
    );
    await expect(
      startEdge({
        db: handle.db,
        env: { REGIONS: JSON.stringify([region.config]), ENVIRONMENT: "development" },
      }),
    ).rejects.toThrow(/REGION_SIGNING_KEYS is required/);
    // Every region needs its key.
    await expect(
      startEdge({
        db: handle.db,
        log: () => {},
        env: {
          ...PRODUCTION_ENV,
          REGIONS: JSON.stringify([region.config, { ...region.config, name: "us-east" }]),
          REGION_SIGNING_KEYS: JSON.stringify({
            "eu-west": { current: keyText(testRegionKey(TEST_SECRETS.regionSigning, "eu-west")) },
          }),
        },
      }),
    ).rejects.toThrow(/no key for region\(s\): us-east/);
    await expect(startEdge({ db: handle.db, env: { ...base, EDGE_PORT: "http" } })).rejects.toThrow(
      /EDGE_PORT/,
    );
  });

  it("runs as `node edge/entry/node.ts` against a postgres:// URL and stops cleanly on SIGTERM", async () => {
    // Its own database behind a Postgres wire server: the child takes the node-postgres path and
    // skips PGlite's WASM start-up.
    const own = await createTestDatabase();
    const { key } = await seedAccount(own.db);
    const gateway = await startWireGateway(own.db.$client);
    after.push(async () => {
      await gateway.close();
      await own.close();
    });
    const child = spawn(process.execPath, ["edge/entry/node.ts"], {
      env: {
        PATH: process.env.PATH,
        EDGE_PORT: "0",
        DATABASE_URL: gateway.postgresUrl,
        REGIONS: JSON.stringify([region.config]),
        REGION_SIGNING_SECRET: TEST_SECRETS.regionSigning,
        ENVIRONMENT: "development",
        EDGE_ASSETS_DIR: join(dir, "child-assets"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    await expect
      .poll(() => /"edge listening"/.test(out), { timeout: 120_000, interval: 100 })
      .toBe(true);
    const url = /"url":"(http:[^"]+)"/.exec(out)![1]!;
    const res = await fetch(`${url}/v1/generations`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await res.json()).toEqual({ object: "list", data: [], next_cursor: null });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain('"edge stopped"');
  }, 150_000);
});
