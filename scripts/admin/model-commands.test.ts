import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertModelVersion } from "../../db/queries/models.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { AdminError } from "./admin-error.ts";
import { runAdminCommand } from "./commands.ts";
import { printModels } from "./model-commands.ts";

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase();
  const release = (version: string, manifest: Record<string, unknown> = {}) => ({
    model: "admin-model",
    version,
    sha256: "e".repeat(64),
    uri: "file:///m.onnx",
    bytes: 1,
    pipeline: "cppn",
    pricePerMegapixelMicrousd: 1,
    manifest,
  });
  await upsertModelVersion(handle.db, { ...release("1"), status: "default" });
  await upsertModelVersion(
    handle.db,
    release("2", { lineage: { parent_version: "1", offline_eval: { beats_parent: false } } }),
  );
});
afterAll(async () => {
  await handle?.close();
});

describe("npm run admin -- models", () => {
  it("takes rollout steps, refusing what the state machine or the offline gate refuses", async () => {
    const step = (action: string, extra: Record<string, unknown> = {}) =>
      runAdminCommand(handle.db, {
        command: "models",
        action: action as "canary",
        model: "admin-model",
        version: "2",
        ...extra,
      });
    await expect(step("canary", { share: 0.2 })).rejects.toMatchObject({
      code: "offline_evaluation_failed",
    });
    await expect(step("canary")).rejects.toBeInstanceOf(AdminError);
    await expect(step("rollback")).rejects.toMatchObject({ code: "invalid_transition" });
    expect(await step("canary", { share: 0.2, force: true, reason: "try it" })).toMatchObject({
      changes: [{ version: "2", from: "candidate", to: "canary", share: 0.2 }],
    });
  });

  it("lists models with state, share, lineage and history, and runs the controller", async () => {
    const listed = await runAdminCommand(handle.db, { command: "models" });
    const lines: string[] = [];
    printModels(listed, (line) => lines.push(line));
    expect(lines[0]).toBe("admin-model  default 1");
    expect(lines[1]).toMatch(/^ {2}2 +canary 20% +served 0 .* from 1$/);
    expect(lines.some((l) => /canary +2 +candidate -> canary +\(admin: try it\)/.test(l))).toBe(
      true,
    );
    const evaluated = await runAdminCommand(handle.db, { command: "models", action: "evaluate" });
    expect(evaluated).toMatchObject({
      rollouts: [{ model: "admin-model", canary: "2", decision: { action: "hold" } }],
    });
  });
});
