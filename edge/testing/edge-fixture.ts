import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { RegionConfig } from "../../contracts/region-protocol.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import { createTestDatabase } from "../../db/testing.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { createEdge } from "../app.ts";
import { sweepLeases, type SweepOptions } from "../generations/lease-sweep.ts";
import { sweepDeps } from "../routes/generation-deps.ts";
import type { EdgeDeps } from "../deps.ts";
import { BackgroundTasks } from "../lib/background-tasks.ts";
import { testRegionKeys } from "./region-keys.ts";
import { ROOMY_TEST_PLAN, seedAccount, seedModel, seedRegions, seedRoomyPlan } from "./seed.ts";

const DEV_SECRET = "test-region-signing-secret-0123456789abcdef";

/** Region names the tests use; any other gets its key from testRegionKeys in its own fixture. */
const TEST_REGIONS = [
  "eu-west",
  "us-east",
  "us-west",
  "ap-southeast",
  "ap-south",
  "ap-northeast",
  "sa-east",
  "au-east",
  "af-south",
  "local",
];

export const TEST_SECRETS = {
  /** The development secret every test region's key derives from (edge/testing/region-keys.ts). */
  regionSigning: DEV_SECRET,
  regionKeys: testRegionKeys(DEV_SECRET, TEST_REGIONS),
  assetUrl: "test-asset-url-secret-0123456789abcdef",
  webhookSecretsKeys: { current: { id: "test", key: btoa("test-webhook-secrets-key-0123456") } },
};

export interface EdgeFixtureOptions extends Partial<Omit<EdgeDeps, "db" | "assets" | "regions">> {
  regions: RegionConfig[];
}

/**
 * The real app over a fresh migrated in-memory PGlite (model, regions and one account on a roomy
 * plan seeded) and
 * a real FsObjectStore in a temp folder. Log lines are collected instead of printed.
 */
export async function createEdgeFixture(opts: EdgeFixtureOptions) {
  const handle = await createTestDatabase();
  const db = handle.db;
  await seedModel(db);
  await seedRegions(db, opts.regions);
  // The owner's plan is roomy: tests of the plan limits create accounts on the plans they test.
  await seedRoomyPlan(db);
  const owner = await seedAccount(db, { plan: ROOMY_TEST_PLAN.id });
  const assetsDir = await mkdtemp(join(tmpdir(), "edge-assets-"));
  const assets = new FsObjectStore(assetsDir);
  const tasks = new BackgroundTasks();
  const logs: Record<string, unknown>[] = [];
  const { app, services } = createEdge({
    environment: "development",
    // What app.request's URLs are based on: callbacks and output URLs come out as before.
    publicUrl: "http://localhost",
    ...opts,
    secrets: {
      ...TEST_SECRETS,
      regionKeys: testRegionKeys(
        DEV_SECRET,
        opts.regions.map((r) => r.name),
      ),
      ...opts.secrets,
    },
    log: opts.log ?? ((entry) => logs.push(entry)),
    waitUntil: opts.waitUntil ?? tasks.add,
    tuning: { dispatchTimeoutMs: 1_000, waitPollMs: 200, ...opts.tuning },
    db,
    assets,
  });

  /** `app.request` with the owner's key unless `key` says otherwise (null: no Authorization). */
  function call(
    path: string,
    init: RequestInit & { key?: string | null; json?: unknown } = {},
  ): Promise<Response> {
    const { key = owner.key, json, headers, ...rest } = init;
    const h = new Headers(headers);
    if (key !== null) h.set("authorization", `Bearer ${key}`);
    if (json !== undefined) h.set("content-type", "application/json");
    return Promise.resolve(
      app.request(path, {
        ...rest,
        headers: h,
        ...(json !== undefined && { body: JSON.stringify(json) }),
      }),
    );
  }

  return {
    app,
    services,
    db,
    assets,
    tasks,
    logs,
    owner,
    call,
    /** One pass of the lease sweep, as the Node entry's timer or the Worker's cron runs it. */
    sweep: (opts: Partial<SweepOptions> = {}) =>
      sweepLeases(
        { callbackBase: "http://localhost", judgeSilenceFrom: 0, ...opts },
        sweepDeps(services),
      ),
    async close() {
      await tasks.drain(5_000);
      await handle.close();
      await rm(assetsDir, { recursive: true, force: true });
    },
  };
}

export type EdgeFixture = Awaited<ReturnType<typeof createEdgeFixture>>;

/** Asserts the error envelope of API.md, with the same request id in the body and the header. */
export async function expectError(
  res: Response,
  status: number,
  type: string,
  code?: string,
): Promise<ErrorBody["error"]> {
  const body = ErrorBody.parse(await res.json());
  expect({ status: res.status, type: body.error.type, code: body.error.code }).toEqual({
    status,
    type,
    code: code ?? body.error.code,
  });
  const requestId = res.headers.get("x-request-id");
  expect(requestId).toMatch(/^\S{8,}$/);
  expect(body.error.request_id).toBe(requestId);
  return body.error;
}
