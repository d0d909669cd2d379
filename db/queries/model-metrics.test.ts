import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import { feedback } from "../schema/feedback.ts";
import { generations, type NewGenerationRow } from "../schema/generations.ts";
import type { ModelVersion } from "../schema/models.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { versionStats } from "./model-metrics.ts";
import { upsertModelVersion } from "./models.ts";

let handle: PgliteHandle;
let owner: Account;
let voter: Account;
let spammer: Account;
let v1: ModelVersion;
let v2: ModelVersion;

const release = (version: string) => ({
  model: "metrics-model",
  version,
  sha256: "c".repeat(64),
  uri: "file:///m.onnx",
  bytes: 1,
  pipeline: "cppn",
  pricePerMegapixelMicrousd: 1,
  manifest: {},
});

beforeAll(async () => {
  handle = await createTestDatabase();
  const account = (name: string) => createAccount(handle.db, { name, planId: "pro" });
  owner = await account("owner");
  voter = await account("voter");
  spammer = await account("spammer");
  v1 = await upsertModelVersion(handle.db, { ...release("1"), status: "default" });
  v2 = await upsertModelVersion(handle.db, release("2"));
});
afterAll(async () => {
  await handle?.close();
});

const generation = (v: ModelVersion, extra: Partial<NewGenerationRow> = {}): NewGenerationRow => ({
  accountId: owner.id,
  model: "metrics-model",
  modelVersion: v.version,
  modelVersionId: v.id,
  prompt: "teal and amber",
  params: { width: 64, height: 64, seed: 1, priority: "standard" },
  status: "succeeded",
  ...extra,
});

describe("versionStats", () => {
  it("counts served, failed, the votes that count for training, and refines (not upscales), per version", async () => {
    const [a, b] = await handle.db
      .insert(generations)
      .values([generation(v1), generation(v1), generation(v1, { status: "failed" })])
      .returning();
    await handle.db.insert(generations).values([
      generation(v2),
      // Test-mode generations are not served traffic.
      generation(v2, { mode: "test" }),
      // Not finished yet.
      generation(v2, { status: "queued" }),
      // A refine of `a` (its parent is on v1).
      generation(v2, { parentGenerationId: a!.id, derivation: { kind: "refine", strength: 0.5 } }),
      // An upscale of `b` is a child too, but a resize, not a preference: not a refine.
      generation(v2, {
        parentGenerationId: b!.id,
        derivation: { kind: "upscale", factor: 2, method: "resample" },
        status: "queued",
      }),
    ]);
    const vote = (
      generationId: string,
      accountId: string,
      kind: "like" | "dislike" | "report",
    ) => ({
      generationId,
      accountId,
      kind,
      own: accountId === owner.id,
      testMode: false,
      fetched: true,
    });
    await handle.db.insert(feedback).values([
      vote(a!.id, voter.id, "like"),
      vote(b!.id, voter.id, "dislike"),
      vote(a!.id, spammer.id, "like"),
      // Own likes never count; neither do test-mode votes.
      vote(b!.id, owner.id, "like"),
      { ...vote(b!.id, spammer.id, "report"), testMode: true },
    ]);

    const stats = await versionStats(handle.db, { versionIds: [v1.id, v2.id] });
    expect(stats.get(v1.id)).toEqual({
      served: 2,
      failed: 1,
      likes: 2,
      dislikes: 1,
      reports: 0,
      refines: 1,
    });
    // Without the controls, the owner's like and the test-mode report count too.
    const raw = await versionStats(handle.db, { versionIds: [v1.id], fraudControls: false });
    expect(raw.get(v1.id)).toMatchObject({ likes: 3, reports: 1 });
    expect(stats.get(v2.id)).toMatchObject({ served: 2, failed: 0, likes: 0, refines: 0 });
  });

  it("measures only the window asked for", async () => {
    const stats = await versionStats(handle.db, {
      versionIds: [v1.id],
      since: new Date(Date.now() + 60_000),
    });
    expect(stats.get(v1.id)).toMatchObject({ served: 0, likes: 0 });
  });
});
