import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { eq } from "drizzle-orm";
import { modelVersions } from "../schema/models.ts";
import {
  applyRolloutStep,
  getActiveModelVersion,
  getServingVersions,
  listModels,
  listRollouts,
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
  it("registers a model on first sight and its versions as candidates", async () => {
    // "active", the earlier name of "default", is still accepted.
    const v1 = await upsertModelVersion(handle.db, release("2026-11-01.1", { status: "active" }));
    expect(v1).toMatchObject({ status: "default", trafficShare: 0, gpuMsPerMegapixel: null });
    const v2 = await upsertModelVersion(handle.db, release("2026-11-27.1"));
    expect(v2.status).toBe("candidate");
    expect(v2.modelId).toBe(v1.modelId);
  });

  it("re-registers the same bytes (updating price and measurements) and refuses different bytes", async () => {
    const updated = await upsertModelVersion(
      handle.db,
      release("2026-11-01.1", { pricePerMegapixelMicrousd: 350, gpuMsPerMegapixel: 42.5 }),
    );
    expect(updated).toMatchObject({ pricePerMegapixelMicrousd: 350, gpuMsPerMegapixel: 42.5 });
    expect(updated.status).toBe("default");
    await expect(
      upsertModelVersion(handle.db, release("2026-11-01.1", { sha256: "9".repeat(64) })),
    ).rejects.toBeInstanceOf(ModelVersionConflictError);
  });

  it("resolves the default version, or a pinned one unless retired", async () => {
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

  it("records every step in the rollout history and keeps one default and one canary", async () => {
    await upsertModelVersion(handle.db, release("5", { model: "rolled" }));
    await upsertModelVersion(handle.db, release("6", { model: "rolled" }));
    await upsertModelVersion(handle.db, release("7", { model: "rolled" }));
    const note = { actor: "admin", reason: "test" };
    await applyRolloutStep(handle.db, "rolled", { action: "promote", version: "5" }, note);
    await applyRolloutStep(
      handle.db,
      "rolled",
      { action: "canary", version: "6", share: 0.2 },
      note,
    );
    await expect(
      applyRolloutStep(handle.db, "rolled", { action: "canary", version: "7", share: 0.2 }, note),
    ).rejects.toMatchObject({ code: "canary_in_progress" });
    const serving = await getServingVersions(handle.db, "rolled");
    expect(serving?.default?.version).toBe("5");
    expect(serving?.canary).toMatchObject({ share: 0.2, version: { version: "6" } });
    await applyRolloutStep(
      handle.db,
      "rolled",
      { action: "promote", version: "6" },
      { actor: "auto", reason: "like rate higher", evidence: { like_rate_z: 3.1 } },
    );
    const after = await getServingVersions(handle.db, "rolled");
    expect(after?.default?.version).toBe("6");
    expect(after?.canary).toBeNull();
    expect((await getActiveModelVersion(handle.db, "rolled", "5"))?.version.status).toBe(
      "candidate",
    );
    const model = after!.model;
    const history = await listRollouts(handle.db, { modelId: model.id });
    expect(history.map((h) => [h.version, h.action, h.fromStatus, h.toStatus])).toEqual([
      ["6", "promote", "canary", "default"],
      ["5", "promote", "default", "candidate"],
      ["6", "canary", "candidate", "canary"],
      ["5", "promote", "candidate", "default"],
      ["7", "register", null, "candidate"],
      ["6", "register", null, "candidate"],
      ["5", "register", null, "candidate"],
    ]);
    expect(history[0]).toMatchObject({ actor: "auto", evidence: { like_rate_z: 3.1 } });
  });

  it("the database itself refuses a second default or a share outside a canary", async () => {
    const v = await getActiveModelVersion(handle.db, "rolled", "7");
    await expect(
      handle.db
        .update(modelVersions)
        .set({ status: "default" })
        .where(eq(modelVersions.id, v!.version.id)),
    ).rejects.toThrow();
    await expect(
      handle.db
        .update(modelVersions)
        .set({ trafficShare: 0.5 })
        .where(eq(modelVersions.id, v!.version.id)),
    ).rejects.toThrow();
  });

  it("lists models with their versions, newest first", async () => {
    await upsertModelVersion(handle.db, release("1", { model: "another", status: "active" }));
    const models = await listModels(handle.db);
    expect(models.map((m) => m.name)).toEqual(["another", "cppn-glove", "rolled"]);
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
