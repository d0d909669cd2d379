import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../db/queries/accounts.ts";
import { insertGeneration } from "../../db/queries/generations.ts";
import type { Account } from "../../db/schema/accounts.ts";
import { feedback, type NewFeedback } from "../../db/schema/feedback.ts";
import type { NewGenerationRow } from "../../db/schema/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { recordAssetFetch } from "../../db/queries/feedback.ts";
import { generations } from "../../db/schema/generations.ts";
import { eq } from "drizzle-orm";
import { readDownloads, readFeedbackSignals } from "./signals.ts";
import { VOTER_RULE } from "./voter-weight.ts";

let handle: PgliteHandle;
let owner: Account;
let fan: Account;
let spammer: Account;
let tester: Account;
let rater: Account;
const outputs: string[] = [];

const row = (accountId: string, extra: Partial<NewGenerationRow> = {}): NewGenerationRow => ({
  accountId,
  model: "cppn-glove",
  modelVersion: "2026-11-27.1",
  prompt: "teal and amber",
  params: { width: 64, height: 64, seed: 7, priority: "standard" },
  status: "succeeded",
  ...extra,
});

beforeAll(async () => {
  handle = await createTestDatabase();
  const account = (name: string) => createAccount(handle.db, { name, planId: "pro" });
  owner = await account("owner");
  fan = await account("fan");
  spammer = await account("spammer");
  tester = await account("tester");
  rater = await account("rater");
  for (let i = 0; i < 30; i++) {
    outputs.push(
      (await insertGeneration(handle.db, row(owner.id, { prompt: `p${i}` }))).generation.id,
    );
  }
  const vote = (v: Partial<NewFeedback> & Pick<NewFeedback, "accountId" | "generationId">) => ({
    kind: "like" as const,
    own: false,
    testMode: false,
    fetched: true,
    ...v,
  });
  const start = Date.parse("2026-12-01T10:00:00Z");
  const at = (ms: number) => ({ createdAt: new Date(start + ms), updatedAt: new Date(start + ms) });
  await handle.db.insert(feedback).values([
    vote({ accountId: owner.id, generationId: outputs[0]!, own: true, ...at(0) }),
    vote({ accountId: fan.id, generationId: outputs[0]!, ...at(60_000) }),
    vote({ accountId: fan.id, generationId: outputs[1]!, kind: "dislike", ...at(120_000) }),
    vote({ accountId: tester.id, generationId: outputs[0]!, testMode: true, ...at(180_000) }),
    // 30 blind likes in 30 seconds.
    ...outputs.map((generationId, i) =>
      vote({ accountId: spammer.id, generationId, fetched: false, ...at(200_000 + i * 1000) }),
    ),
    // 30 votes in 30 seconds, each on an output the rater had fetched: a person on a gallery.
    ...outputs.map((generationId, i) =>
      vote({
        accountId: rater.id,
        generationId,
        kind: i % 3 === 0 ? "dislike" : "like",
        ...at(400_000 + i * 1000),
      }),
    ),
  ]);
  await insertGeneration(
    handle.db,
    row(owner.id, {
      parentGenerationId: outputs[2]!,
      derivation: { kind: "refine", strength: 0.5 },
      createdAt: new Date(start + 300_000),
    }),
  );
  // An upscale is a child too, but no preference signal.
  await insertGeneration(
    handle.db,
    row(owner.id, {
      parentGenerationId: outputs[2]!,
      derivation: { kind: "upscale", factor: 2, method: "rerender" },
    }),
  );
});
afterAll(async () => {
  await handle?.close();
});

describe("readFeedbackSignals", () => {
  it("marks own and test-mode votes as not counting, and refines as counting", async () => {
    const signals = await readFeedbackSignals(handle.db);
    const of = (accountId: string) => signals.filter((s) => s.accountId === accountId);
    expect(of(owner.id).map((s) => [s.kind, s.own, s.counts])).toEqual([
      ["like", true, false],
      ["refine", true, true],
    ]);
    expect(of(owner.id)[1]).toMatchObject({
      generationId: outputs[2],
      refinedGenerationId: expect.any(String),
    });
    expect(of(tester.id).map((s) => [s.testMode, s.counts])).toEqual([[true, false]]);
    expect(of(fan.id).map((s) => [s.kind, s.counts, s.weight])).toEqual([
      ["like", true, 1],
      ["dislike", true, 1],
    ]);
  });

  it("weighs an account that likes everything in bursts without looking at the floor", async () => {
    const spam = (await readFeedbackSignals(handle.db)).filter((s) => s.accountId === spammer.id);
    expect(spam).toHaveLength(30);
    for (const s of spam) expect(s.weight).toBe(VOTER_RULE.floor);
  });

  it("keeps full weight for fast votes on outputs the voter fetched (bursts are blind)", async () => {
    const rated = (await readFeedbackSignals(handle.db)).filter((s) => s.accountId === rater.id);
    expect(rated).toHaveLength(30);
    for (const s of rated) expect(s.weight).toBe(1);
  });

  it("reads a time range in a stable order, and without fraud controls weighs everyone 1", async () => {
    const since = new Date("2026-12-01T10:01:00Z");
    const until = new Date("2026-12-01T10:03:00Z");
    const window = await readFeedbackSignals(handle.db, { since, until });
    expect(window.map((s) => s.kind)).toEqual(["like", "dislike"]);
    const raw = await readFeedbackSignals(handle.db, { fraudControls: false });
    expect(raw.every((s) => s.weight === 1 && s.counts)).toBe(true);
    expect(raw.map((s) => s.id)).toEqual((await readFeedbackSignals(handle.db)).map((s) => s.id));
  });

  it("counts downloads by accounts other than the owner", async () => {
    await handle.db
      .update(generations)
      .set({ assetKey: "a".repeat(64) + ".png" })
      .where(eq(generations.id, outputs[3]!));
    const key = "a".repeat(64) + ".png";
    await recordAssetFetch(handle.db, owner.id, key, new Date());
    await recordAssetFetch(handle.db, fan.id, key, new Date());
    await recordAssetFetch(handle.db, fan.id, key, new Date());
    await recordAssetFetch(handle.db, tester.id, key, new Date());
    const downloads = await readDownloads(handle.db);
    expect(downloads.get(outputs[3]!)).toEqual({ downloaders: 2, fetches: 3 });
    expect(downloads.has(outputs[4]!)).toBe(false);
  });
});
