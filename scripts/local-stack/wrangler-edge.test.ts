import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScheduledTicker } from "./scheduled-ticker.ts";
import { logLineFilter } from "./welcome.ts";
import { EDGE_VARIABLE_NAMES, toDotenv, edgeVars, writeDotenvFile } from "./edge-vars.ts";
import { wranglerDevArgs, wranglerDevEnv } from "./wrangler-dev-process.ts";

// The parts of `npm run dev:worker` that need no Worker: what wrangler is given, and the cron
// ticker. test/e2e/walking-skeleton.worker.test.ts runs the whole of it.

const secrets = {
  regionSigning: "r".repeat(64),
  assetUrl: "a".repeat(64),
  apiKeyPepper: "p".repeat(64),
  webhookSecretsKey: `local:${btoa("w".repeat(32))}`,
};
const regions = [{ name: "us-east", endpoint: "http://127.0.0.1:8801", lat: 38.9, lon: -77 }];

describe("the Worker's development variables", () => {
  it("are every variable and secret the Worker requires, with the stack's values", () => {
    const vars = edgeVars({
      publicUrl: "http://127.0.0.1:8787",
      regions,
      secrets,
      databaseUrl: "postgresql://x@127.0.0.1:1/db",
    });
    expect(vars).toEqual({
      ENVIRONMENT: "development",
      PUBLIC_URL: "http://127.0.0.1:8787",
      REGIONS: JSON.stringify(regions),
      DATABASE_URL: "postgresql://x@127.0.0.1:1/db",
      REGION_SIGNING_SECRET: secrets.regionSigning,
      ASSET_URL_SECRET: secrets.assetUrl,
      API_KEY_PEPPER: secrets.apiKeyPepper,
      WEBHOOK_SECRETS_KEY: secrets.webhookSecretsKey,
    });
  });

  it("are written as literal dotenv values, readable by the owner only", async () => {
    expect(toDotenv({ REGIONS: '[{"name":"a$b"}]', X: "1" })).toBe(
      `REGIONS='[{"name":"a$b"}]'\nX='1'\n`,
    );
    expect(() => toDotenv({ BAD: "it's" })).toThrow(/quote or line break/);
    expect(() => toDotenv({ BAD: "a\nb" })).toThrow(/quote or line break/);
    expect(() => toDotenv({ "not-a-name": "x" })).toThrow(/invalid variable name/);
    const dir = await mkdtemp(join(tmpdir(), "dev-vars-"));
    try {
      const file = join(dir, "worker.env");
      await writeDotenvFile(file, { A: "1" });
      await writeDotenvFile(file, { B: "2" });
      expect(await readFile(file, "utf8")).toBe("B='2'\n");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("wrangler dev's command line and environment", () => {
  const opts = {
    host: "127.0.0.1",
    port: 8787,
    inspectorPort: 9333,
    envFile: "/data/wrangler/worker.env",
    vars: { NEON_WS_PROXY: "127.0.0.1:5555/v1" },
    persistTo: "/data/wrangler/state",
    logLevel: "silent" as const,
  };

  it("runs locally on the stack's port, with the variables file, the proxy var and the state folder", () => {
    const args = wranglerDevArgs(opts);
    expect(args[0]).toBe("dev");
    // The development Worker is [env.dev]: a bare `wrangler dev` has no entry point.
    expect(args[args.indexOf("--env") + 1]).toBe("dev");
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args).toContain("--local");
    expect(value("--config")).toMatch(/\/wrangler\.toml$/);
    expect([value("--ip"), value("--port"), value("--inspector-port")]).toEqual([
      "127.0.0.1",
      "8787",
      "9333",
    ]);
    expect(value("--env-file")).toBe(opts.envFile);
    // wrangler splits NAME:value at the first colon only.
    expect(value("--var")).toBe("NEON_WS_PROXY:127.0.0.1:5555/v1");
    expect(value("--persist-to")).toBe(opts.persistTo);
    expect(value("--log-level")).toBe("none");
    // The Worker's console lines are wrangler's "log" level: kept for the stack to filter.
    expect(wranglerDevArgs({ ...opts, logLevel: "warn" })).toContain("log");
    expect(args).toContain("--show-interactive-dev-session=false");
  });

  it("takes none of the Worker's variables from the caller's environment", () => {
    const env = wranglerDevEnv(
      {
        PATH: "/usr/bin",
        DATABASE_URL: "postgres://somewhere-else/db",
        REGIONS: "[]",
        API_KEY_PEPPER: "other",
        NEON_WS_PROXY: "elsewhere:1",
        WRANGLER_SEND_METRICS: "true",
      },
      "/data/wrangler/logs",
    );
    for (const name of ["DATABASE_URL", "REGIONS", "API_KEY_PEPPER", "NEON_WS_PROXY"]) {
      expect(env[name], name).toBeUndefined();
    }
    expect(EDGE_VARIABLE_NAMES).toEqual(
      expect.arrayContaining(["REGION_SIGNING_SECRET", "ASSET_URL_SECRET", "ENVIRONMENT"]),
    );
    expect(env).toMatchObject({
      PATH: "/usr/bin",
      // The caller's choice wins over the stack's quiet default.
      WRANGLER_SEND_METRICS: "true",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: "/data/wrangler/logs",
    });
  });
});

describe("logLineFilter", () => {
  it("drops the lines below LOG_LEVEL, JSON or tagged by wrangler, and keeps the rest", () => {
    const keep = logLineFilter("warn");
    expect(keep(JSON.stringify({ level: "info", msg: "request" }))).toBe(false);
    expect(keep(JSON.stringify({ msg: "no level: info" }))).toBe(false);
    expect(keep(JSON.stringify({ level: "error", msg: "boom" }))).toBe(true);
    expect(keep("[wrangler:info] GET /healthz 200 OK (3ms)")).toBe(false);
    expect(keep("[wrangler-ProxyWorker:info] GET /healthz 200 OK (9ms)")).toBe(false);
    expect(keep("[wrangler:warn] Unable to fetch the `Request.cf` object!")).toBe(true);
    expect(keep("Your Worker has access to the following bindings:")).toBe(true);
    expect(logLineFilter("info")("[wrangler:info] GET /healthz 200 OK (3ms)")).toBe(true);
    expect(keep("{not json")).toBe(true);
    expect(keep("   ")).toBe(false);
  });
});

describe("ScheduledTicker", () => {
  let hits = 0;
  let status = 200;
  let url: string;
  const server = createServer((req, res) => {
    hits++;
    setTimeout(() => res.writeHead(status).end(), 50);
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn-cgi/local/scheduled`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("triggers on its interval, one at a time, and warns when the trigger fails", async () => {
    const warnings: string[] = [];
    const ticker = new ScheduledTicker(url, { intervalMs: 20, warn: (m) => warnings.push(m) });
    ticker.start();
    await expect.poll(() => hits, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    ticker.stop();
    const after = hits;
    await new Promise((resolve) => setTimeout(resolve, 120));
    // Stopped; and no more than one request was ever in flight (each takes 50 ms, ticks are 20).
    expect(hits).toBeLessThanOrEqual(after + 1);
    expect(warnings).toEqual([]);

    status = 500;
    await new ScheduledTicker(url, { warn: (m) => warnings.push(m) }).tick();
    expect(warnings).toEqual([`scheduled trigger: ${url} answered 500`]);
  });
});
