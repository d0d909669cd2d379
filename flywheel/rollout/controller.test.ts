import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../db/queries/accounts.ts";
import {
  applyRolloutStep,
  getServingVersions,
  listRollouts,
  upsertModelVersion,
} from "../../db/queries/models.ts";
import type { Account } from "../../db/schema/accounts.ts";
import { feedback } from "../../db/schema/feedback.ts";
import { generations } from "../../db/schema/generations.ts";
import type { ModelVersion } from "../../db/schema/models.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { evaluateRollouts, rolloutTick } from "./controller.ts";
import { DEFAULT_ROLLOUT_POLICY } from "./policy.ts";

let handle: PgliteHandle;
let owner: Account;
// Many voters with a few votes each: what the fraud rule weighs in full.
const voters: Account[] = [];
let nextVoter = 0;
beforeAll(async () => {
  handle = await createTestDatabase();
  owner = await createAccount(handle.db, { name: "owner", planId: "pro" });
  for (let i = 0; i < 60; i++) {
    voters.push(await createAccount(handle.db, { name: `voter ${i}`, planId: "pro" }));
  }
});
afterAll(async () => {
  await handle?.close();
});

const policy = { ...DEFAULT_ROLLOUT_POLICY, minSample: 40 };

async function release(model: string, version: string, status?: "default") {
  return upsertModelVersion(handle.db, {
    model,
    version,
    sha256: "d".repeat(64),
    uri: "file:///m.onnx",
    bytes: 1,
    pipeline: "cppn",
    pricePerMegapixelMicrousd: 1,
    manifest: {},
    status,
  });
}

/** `n` served generations of `v`: the first `likes` liked, the next `dislikes` disliked, the next `reports` reported. */
async function traffic(v: ModelVersion, n: number, likes: number, dislikes = 0, reports = 0) {
  const rows = await handle.db
    .insert(generations)
    .values(
      Array.from({ length: n }, () => ({
        accountId: owner.id,
        model: "m",
        modelVersion: v.version,
        modelVersionId: v.id,
        prompt: "p",
        params: { width: 64, height: 64, seed: 1, priority: "standard" as const },
        status: "succeeded" as const,
      })),
    )
    .returning({ id: generations.id });
  const votes = rows.slice(0, likes + dislikes + reports).map((g, i) => ({
    generationId: g.id,
    accountId: voters[nextVoter++ % voters.length]!.id,
    kind:
      i < likes
        ? ("like" as const)
        : i < likes + dislikes
          ? ("dislike" as const)
          : ("report" as const),
    own: false,
    testMode: false,
    fetched: true,
  }));
  if (votes.length) await handle.db.insert(feedback).values(votes);
}

describe("the rollout controller", () => {
  it("holds, then promotes a canary users clearly prefer, by itself", async () => {
    const v1 = await release("ctl-a", "1", "default");
    const v2 = await release("ctl-a", "2");
    // Traffic before the canary started is outside the comparison window.
    await traffic(v2, 50, 0);
    await applyRolloutStep(
      handle.db,
      "ctl-a",
      { action: "canary", version: "2", share: 0.5 },
      {
        actor: "admin",
        reason: "test",
      },
    );
    await traffic(v1, 60, 12, 30);
    await traffic(v2, 20, 12, 4);
    const [held] = await evaluateRollouts(handle.db, { policy });
    expect(held?.decision.action).toBe("hold");
    await traffic(v2, 40, 20, 10);
    const [done] = await evaluateRollouts(handle.db, { policy });
    expect(done?.decision.action).toBe("promote");
    expect((await getServingVersions(handle.db, "ctl-a"))?.default?.version).toBe("2");
    const [last] = await listRollouts(handle.db, { modelId: v1.modelId, limit: 1 });
    expect(last).toMatchObject({ action: "promote", actor: "auto", version: "2" });
    expect(last?.evidence).toMatchObject({ canary: { served: 60, likes: 32, dislikes: 14 } });
    // Nothing left to decide.
    expect(await evaluateRollouts(handle.db, { policy })).toEqual([]);
  });

  it("rolls back a canary whose outputs get reported, before any preference sample", async () => {
    await release("ctl-b", "1", "default");
    await release("ctl-b", "2");
    await applyRolloutStep(
      handle.db,
      "ctl-b",
      { action: "canary", version: "2", share: 0.1 },
      {
        actor: "admin",
        reason: "test",
      },
    );
    const canary = (await getServingVersions(handle.db, "ctl-b"))!.canary!.version;
    await traffic(canary, 30, 0, 0, 6);
    const [out] = await evaluateRollouts(handle.db, { policy });
    expect(out?.decision).toMatchObject({ action: "rollback" });
    expect(out?.decision.reason).toMatch(/report rate/);
    const serving = await getServingVersions(handle.db, "ctl-b");
    expect(serving?.canary).toBeNull();
    expect(serving?.default?.version).toBe("1");
  });

  it("runs from an edge's timer or cron: decisions logged, failures logged instead of thrown", async () => {
    await release("ctl-c", "1", "default");
    await release("ctl-c", "2");
    await applyRolloutStep(
      handle.db,
      "ctl-c",
      { action: "canary", version: "2", share: 0.1 },
      { actor: "admin", reason: "test" },
    );
    const canary = (await getServingVersions(handle.db, "ctl-c"))!.canary!.version;
    await traffic(canary, 30, 0, 0, 6);
    const lines: Array<Record<string, unknown>> = [];
    await rolloutTick(handle.db, (e) => lines.push(e));
    expect(lines).toEqual([
      expect.objectContaining({ msg: "rollout rollback", model: "ctl-c", version: "2" }),
    ]);
    const broken = {
      select: () => {
        throw new Error("database down");
      },
    } as never;
    await rolloutTick(broken, (e) => lines.push(e));
    expect(lines.at(-1)).toMatchObject({ level: "error", msg: "rollout controller failed" });
  });
});
