import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertModelVersion, type ModelVersionInput } from "../../db/queries/models.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import {
  forgetModelVersions,
  MODEL_VERSION_TTL_MS,
  resolveModelVersion,
} from "./model-version-cache.ts";

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(async () => {
  await handle?.close();
});

const release = (model: string, version: string, status: ModelVersionInput["status"]) =>
  ({
    model,
    version,
    sha256: "b".repeat(64),
    uri: `file:///models/${model}/${version}.onnx`,
    bytes: 1,
    pipeline: "cppn",
    status,
    pricePerMegapixelMicrousd: 40,
    manifest: {},
  }) satisfies ModelVersionInput;

describe("resolveModelVersion", () => {
  it("reuses a resolution for MODEL_VERSION_TTL_MS, then reads the catalog again", async () => {
    const t0 = 1_000_000;
    await upsertModelVersion(handle.db, release("cache-a", "v1", "active"));
    expect(
      (await resolveModelVersion(handle.db, "cache-a", undefined, t0, "acct_1"))?.version.version,
    ).toBe("v1");
    await upsertModelVersion(handle.db, release("cache-a", "v1", "retired"));
    const stale = await resolveModelVersion(handle.db, "cache-a", undefined, t0 + 1, "acct_1");
    expect(stale?.version.status).toBe("default");
    expect(
      await resolveModelVersion(
        handle.db,
        "cache-a",
        undefined,
        t0 + MODEL_VERSION_TTL_MS,
        "acct_1",
      ),
    ).toBeNull();
  });

  it("past half its life answers from the copy and reads the catalog again behind it", async () => {
    const t0 = 3_000_000;
    await upsertModelVersion(handle.db, release("cache-e", "v1", "active"));
    expect(
      (await resolveModelVersion(handle.db, "cache-e", undefined, t0, "acct_1"))?.version.version,
    ).toBe("v1");
    await upsertModelVersion(handle.db, release("cache-e", "v2", "active"));
    const behind: Promise<unknown>[] = [];
    const half = t0 + MODEL_VERSION_TTL_MS / 2;
    const served = await resolveModelVersion(
      handle.db,
      "cache-e",
      undefined,
      half,
      "acct_1",
      (work) => behind.push(work),
    );
    expect(served?.version.version).toBe("v1");
    expect(behind).toHaveLength(1);
    await Promise.all(behind);
    // The copy read at `half` is served until half + TTL, with no read on the request's path.
    const later = half + MODEL_VERSION_TTL_MS - 1;
    expect(
      (
        await resolveModelVersion(handle.db, "cache-e", undefined, later, "acct_1", (w) =>
          behind.push(w),
        )
      )?.version.version,
    ).toBe("v2");
    await Promise.all(behind);
  });

  it("keeps pinned versions apart and never remembers an unknown name", async () => {
    const now = 2_000_000;
    expect(await resolveModelVersion(handle.db, "cache-b", undefined, now, "acct_1")).toBeNull();
    await upsertModelVersion(handle.db, release("cache-b", "v1", "active"));
    await upsertModelVersion(handle.db, release("cache-b", "v2", "active"));
    // Registered a moment after a miss: found at once.
    expect(
      (await resolveModelVersion(handle.db, "cache-b", undefined, now, "acct_1"))?.version.version,
    ).toBe("v2");
    expect(
      (await resolveModelVersion(handle.db, "cache-b", "v1", now, "acct_1"))?.version.version,
    ).toBe("v1");
    expect(await resolveModelVersion(handle.db, "cache-b", "v9", now, "acct_1")).toBeNull();
  });

  it("sends the canary's share of accounts to the canary, sticky, and never moves a pinned request", async () => {
    const now = 3_000_000;
    await upsertModelVersion(handle.db, release("cache-d", "v1", "default"));
    await upsertModelVersion(handle.db, {
      ...release("cache-d", "v2", "canary"),
      trafficShare: 0.3,
    });
    const accounts = Array.from({ length: 400 }, (_, i) => `acct_${i}`);
    const versionFor = async (account: string, pinned?: string) =>
      (await resolveModelVersion(handle.db, "cache-d", pinned, now, account))?.version.version;
    const first = await Promise.all(accounts.map((a) => versionFor(a)));
    const onCanary = first.filter((v) => v === "v2").length / accounts.length;
    expect(onCanary).toBeGreaterThan(0.2);
    expect(onCanary).toBeLessThan(0.4);
    expect(await Promise.all(accounts.map((a) => versionFor(a)))).toEqual(first);
    for (const a of accounts.slice(0, 50)) {
      expect(await versionFor(a, "v1")).toBe("v1");
      expect(await versionFor(a, "v2")).toBe("v2");
    }
  });

  it("forgets what it remembers for a database when told to", async () => {
    const now = 4_000_000;
    await upsertModelVersion(handle.db, release("cache-f", "v1", "default"));
    expect(
      (await resolveModelVersion(handle.db, "cache-f", undefined, now, "acct_1"))?.version.version,
    ).toBe("v1");
    await upsertModelVersion(handle.db, release("cache-f", "v1", "retired"));
    await upsertModelVersion(handle.db, release("cache-f", "v2", "default"));
    forgetModelVersions(handle.db);
    expect(
      (await resolveModelVersion(handle.db, "cache-f", undefined, now, "acct_1"))?.version.version,
    ).toBe("v2");
  });

  it("is per database", async () => {
    const other = await createTestDatabase();
    try {
      await upsertModelVersion(handle.db, release("cache-c", "v1", "active"));
      expect(
        await resolveModelVersion(handle.db, "cache-c", undefined, 0, "acct_1"),
      ).not.toBeNull();
      expect(await resolveModelVersion(other.db, "cache-c", undefined, 0, "acct_1")).toBeNull();
    } finally {
      await other.close();
    }
  });
});
