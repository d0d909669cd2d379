import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import {
  getActiveModelVersion,
  listModels,
  ModelVersionConflictError,
  upsertModelVersion,
  type ModelVersionInput,
} from "./models.ts";

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(async () => {
  await handle?.close();
});

const release = (version: string, extra: Partial<ModelVersionInput> = {}): ModelVersionInput => ({
  model: "cppn-glove",
  version,
  sha256: version
    .replace(/[^0-9]/g, "")
    .padEnd(64, "0")
    .slice(0, 64),
  uri: `file://models/cppn-glove/${version}.onnx`,
  bytes: 1_234_567,
  pipeline: "cppn",
  pricePerMegapixelMicrousd: 400,
  manifest: { inputs: ["coords", "latent"], outputs: ["rgb"] },
  ...extra,
});

describe("model versions", () => {
  it("registers a model on first sight and its versions as canaries", async () => {
    const v1 = await upsertModelVersion(handle.db, release("2026-11-01.1", { status: "active" }));
    expect(v1).toMatchObject({ status: "active", trafficShare: 0, gpuMsPerMegapixel: null });
    const v2 = await upsertModelVersion(handle.db, release("2026-11-27.1"));
    expect(v2.status).toBe("canary");
    expect(v2.modelId).toBe(v1.modelId);
  });

  it("re-registers the same bytes (updating price and measurements) and refuses different bytes", async () => {
    const updated = await upsertModelVersion(
      handle.db,
      release("2026-11-01.1", { pricePerMegapixelMicrousd: 350, gpuMsPerMegapixel: 42.5 }),
    );
    expect(updated).toMatchObject({ pricePerMegapixelMicrousd: 350, gpuMsPerMegapixel: 42.5 });
    expect(updated.status).toBe("active");
    await expect(
      upsertModelVersion(handle.db, release("2026-11-01.1", { sha256: "9".repeat(64) })),
    ).rejects.toBeInstanceOf(ModelVersionConflictError);
  });

  it("resolves the newest active version, or a pinned one unless retired", async () => {
    expect((await getActiveModelVersion(handle.db, "cppn-glove"))?.version.version).toBe(
      "2026-11-01.1",
    );
    await upsertModelVersion(handle.db, release("2026-11-27.1", { status: "active" }));
    const latest = await getActiveModelVersion(handle.db, "cppn-glove");
    expect(latest?.version.version).toBe("2026-11-27.1");
    expect(latest?.model.name).toBe("cppn-glove");

    expect(
      (await getActiveModelVersion(handle.db, "cppn-glove", "2026-11-01.1"))?.version.version,
    ).toBe("2026-11-01.1");
    await upsertModelVersion(handle.db, release("2026-11-01.1", { status: "retired" }));
    expect(await getActiveModelVersion(handle.db, "cppn-glove", "2026-11-01.1")).toBeNull();
    expect(await getActiveModelVersion(handle.db, "unknown-model")).toBeNull();
  });

  it("lists models with their versions, newest first", async () => {
    await upsertModelVersion(handle.db, release("1", { model: "another", status: "active" }));
    const models = await listModels(handle.db);
    expect(models.map((m) => m.name)).toEqual(["another", "cppn-glove"]);
    expect(models[1]?.versions.map((v) => v.version)).toEqual(["2026-11-27.1", "2026-11-01.1"]);
  });

  it("validates the input", async () => {
    await expect(
      upsertModelVersion(handle.db, release("bad version with spaces")),
    ).rejects.toThrow();
    await expect(
      upsertModelVersion(handle.db, release("3", { trafficShare: 1.5 })),
    ).rejects.toThrow();
  });
});
