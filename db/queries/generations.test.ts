import { and, desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import type { NewGenerationRow } from "../schema/generations.ts";
import { generations } from "../schema/generations.ts";
import { usageLedger } from "../schema/usage-ledger.ts";
import { accounts } from "../schema/accounts.ts";
import { feedback } from "../schema/feedback.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { InvalidCursorError } from "./cursor.ts";
import {
  cancelGeneration,
  completeGeneration,
  failGeneration,
  findGenerationByAssetKey,
  findSucceededByContentHash,
  getGeneration,
  getGenerationForAccount,
  insertGeneration,
  listGenerations,
  markGenerationRouted,
  markGenerationRunning,
  updateGeneration,
} from "./generations.ts";
import { createProject } from "./projects.ts";

let handle: PgliteHandle;
let alice: Account;
let bob: Account;
beforeAll(async () => {
  handle = await createTestDatabase();
  alice = await createAccount(handle.db, { name: "alice", planId: "pro" });
  bob = await createAccount(handle.db, { name: "bob", planId: "free" });
});
afterAll(async () => {
  await handle?.close();
});

const queued = (accountId: string, extra: Partial<NewGenerationRow> = {}): NewGenerationRow => ({
  accountId,
  model: "cppn-glove",
  modelVersion: "2026-11-27.1",
  prompt: "teal and amber",
  params: { width: 512, height: 512, seed: 7, priority: "standard" },
  ...extra,
});

const output = (sha: string) => ({
  assetKey: `${sha}.png`,
  contentType: "image/png",
  bytes: 2048,
  width: 512,
  height: 512,
  outputSha256: sha,
  gpuMs: 120,
  costActualMicrousd: 300,
});

describe("insert and read", () => {
  it("writes a queued generation with defaults and hides it from other accounts", async () => {
    const { generation, created } = await insertGeneration(handle.db, queued(alice.id));
    expect(created).toBe(true);
    expect(generation).toMatchObject({ status: "queued", cached: false, metadata: {} });
    expect(generation.id).toMatch(/^gen_[0-9a-z]{26}$/);
    expect(await getGenerationForAccount(handle.db, alice.id, generation.id)).toEqual(generation);
    expect(await getGenerationForAccount(handle.db, bob.id, generation.id)).toBeNull();
    expect(await getGeneration(handle.db, generation.id)).toEqual(generation);
  });

  it("returns the earlier generation for a reused idempotency key, per account", async () => {
    const first = await insertGeneration(
      handle.db,
      queued(alice.id, { idempotencyKey: "k1", requestHash: "h1" }),
    );
    const replay = await insertGeneration(
      handle.db,
      queued(alice.id, { idempotencyKey: "k1", requestHash: "h2", prompt: "other" }),
    );
    expect(replay).toEqual({ generation: first.generation, created: false });
    expect(replay.generation.requestHash).toBe("h1");
    const bobs = await insertGeneration(handle.db, queued(bob.id, { idempotencyKey: "k1" }));
    expect(bobs.created).toBe(true);
  });
});

describe("listGenerations", () => {
  it("lists newest first across pages, filtered by project and status", async () => {
    const owner = await createAccount(handle.db, { name: "lister", planId: "pro" });
    const project = await createProject(handle.db, { accountId: owner.id, name: "p" });
    const base = Date.parse("2026-05-01T00:00:00Z");
    // Two rows share a timestamp: the id breaks the tie, so no row is skipped or repeated.
    const times = [0, 1000, 1000, 2000, 3000];
    const ids: string[] = [];
    for (const [i, dt] of times.entries()) {
      const { generation } = await insertGeneration(
        handle.db,
        queued(owner.id, {
          createdAt: new Date(base + dt),
          prompt: `p${i}`,
          projectId: i % 2 === 0 ? project.id : null,
        }),
      );
      ids.push(generation.id);
    }
    await updateGeneration(handle.db, ids[4]!, { status: "failed" });

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listGenerations(handle.db, owner.id, { limit: 2, cursor });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((g) => g.prompt));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen[0]).toBe("p4");
    expect(seen.at(-1)).toBe("p0");
    expect([...seen].sort()).toEqual(["p0", "p1", "p2", "p3", "p4"]);

    const inProject = await listGenerations(handle.db, owner.id, { projectId: project.id });
    expect(inProject.data.map((g) => g.prompt)).toEqual(["p4", "p2", "p0"]);
    const failed = await listGenerations(handle.db, owner.id, { status: "failed" });
    expect(failed.data.map((g) => g.prompt)).toEqual(["p4"]);
    expect((await listGenerations(handle.db, bob.id, { status: "failed" })).data).toEqual([]);
  });

  it("rejects cursors it did not issue", async () => {
    for (const cursor of [
      "not-base64!",
      btoa("[1]"),
      btoa('{"a":1}'),
      btoa(JSON.stringify([1e20, "gen_x"])),
    ]) {
      await expect(listGenerations(handle.db, alice.id, { cursor })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
  });

  it("pages through the (account_id, created_at desc, id desc) index", async () => {
    const { db } = handle;
    // The shape listGenerations sends for a later page: keyset row comparison, newest first.
    const { sql: text, params } = db
      .select()
      .from(generations)
      .where(
        and(
          eq(generations.accountId, alice.id),
          sql`(${generations.createdAt}, ${generations.id}) < (${new Date().toISOString()}::timestamptz, ${"gen_z"})`,
        ),
      )
      .orderBy(desc(generations.createdAt), desc(generations.id))
      .limit(21)
      .toSQL();
    await db.$client.exec("set enable_seqscan = off");
    try {
      const plan = await db.$client.query<{ "QUERY PLAN": string }>(`explain ${text}`, params);
      const lines = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(lines).toMatch(/Index Scan using generations_account_id_created_at_idx/);
      expect(lines).not.toMatch(/Sort/);
    } finally {
      await db.$client.exec("reset enable_seqscan");
    }
  });
});

describe("status transitions", () => {
  it("moves queued -> routed -> running -> succeeded and ignores late or repeated events", async () => {
    const { generation } = await insertGeneration(handle.db, queued(alice.id));
    const routed = await markGenerationRouted(handle.db, generation.id, {
      region: "eu-west",
      estimatedWaitMs: 120,
    });
    expect(routed).toMatchObject({ status: "queued", region: "eu-west", estimatedWaitMs: 120 });
    expect(routed?.routedAt).toBeInstanceOf(Date);

    const started = new Date("2026-06-01T00:00:01Z");
    const running = await markGenerationRunning(handle.db, generation.id, { at: started });
    expect(running).toMatchObject({ status: "running", startedAt: started });
    expect(await markGenerationRunning(handle.db, generation.id)).toBeNull();

    const done = await completeGeneration(handle.db, generation.id, {
      ...output("b".repeat(64)),
      completedAt: new Date("2026-06-01T00:00:02Z"),
    });
    expect(done).toMatchObject({
      status: "succeeded",
      startedAt: started,
      completedAt: new Date("2026-06-01T00:00:02Z"),
      gpuMs: 120,
      costActualMicrousd: 300,
    });
    expect(await failGeneration(handle.db, generation.id, { error: err })).toBeNull();
    expect(await cancelGeneration(handle.db, alice.id, generation.id)).toBeNull();
  });

  it("fills started_at on completion when the start event was missed", async () => {
    const { generation } = await insertGeneration(handle.db, queued(alice.id));
    const at = new Date("2026-06-02T00:00:00Z");
    const done = await completeGeneration(handle.db, generation.id, {
      ...output("c".repeat(64)),
      completedAt: at,
    });
    expect(done?.startedAt).toEqual(at);
  });

  it("fails or blocks only active generations", async () => {
    const { generation } = await insertGeneration(handle.db, queued(alice.id));
    const blocked = await failGeneration(handle.db, generation.id, {
      status: "blocked",
      error: { ...err, type: "content_policy_violation", categories: ["violence"] },
    });
    expect(blocked).toMatchObject({ status: "blocked", error: { categories: ["violence"] } });
    expect(blocked?.completedAt).toBeInstanceOf(Date);
    expect(await completeGeneration(handle.db, generation.id, output("d".repeat(64)))).toBeNull();
  });

  it("cancels only a queued generation of the owning account", async () => {
    const { generation } = await insertGeneration(handle.db, queued(alice.id));
    expect(await cancelGeneration(handle.db, bob.id, generation.id)).toBeNull();
    expect((await cancelGeneration(handle.db, alice.id, generation.id))?.status).toBe("canceled");
    const { generation: started } = await insertGeneration(handle.db, queued(alice.id));
    await markGenerationRunning(handle.db, started.id);
    expect(await cancelGeneration(handle.db, alice.id, started.id)).toBeNull();
  });

  it("validates completion output", async () => {
    const { generation } = await insertGeneration(handle.db, queued(alice.id));
    await expect(
      completeGeneration(handle.db, generation.id, { ...output("nothex"), gpuMs: 1 }),
    ).rejects.toThrow();
  });
});

const err = { type: "api_error", code: "inference_failed", message: "boom" };

describe("dedup and asset lookups", () => {
  it("finds the original succeeded generation by content hash", async () => {
    const hash = "h-dedup-1";
    const { generation: original } = await insertGeneration(
      handle.db,
      queued(alice.id, { contentHash: hash, createdAt: new Date("2026-01-01Z") }),
    );
    expect(await findSucceededByContentHash(handle.db, hash)).toBeNull();
    await completeGeneration(handle.db, original.id, output("e".repeat(64)));
    const { generation: copy } = await insertGeneration(
      handle.db,
      queued(bob.id, { contentHash: hash, cached: true }),
    );
    await completeGeneration(handle.db, copy.id, { ...output("e".repeat(64)), cached: true });
    expect((await findSucceededByContentHash(handle.db, hash))?.id).toBe(original.id);
    expect(await findSucceededByContentHash(handle.db, "h-none")).toBeNull();
  });

  it("resolves who may read an asset shared by deduplicated generations", async () => {
    const sha = "f".repeat(64);
    const publicProject = await createProject(handle.db, {
      accountId: bob.id,
      name: "gallery",
      visibility: "public",
    });
    const { generation: mine } = await insertGeneration(
      handle.db,
      queued(alice.id, { createdAt: new Date("2026-01-01Z") }),
    );
    await completeGeneration(handle.db, mine.id, { ...output(sha), region: "us-east" });

    const privateOnly = await findGenerationByAssetKey(handle.db, `${sha}.png`);
    expect(privateOnly).toMatchObject({
      generationId: mine.id,
      accountId: alice.id,
      visibility: "private",
      region: "us-east",
      contentType: "image/png",
      bytes: 2048,
      outputSha256: sha,
    });

    const { generation: shared } = await insertGeneration(
      handle.db,
      queued(bob.id, { projectId: publicProject.id, cached: true }),
    );
    await completeGeneration(handle.db, shared.id, { ...output(sha), region: "us-east" });
    expect(await findGenerationByAssetKey(handle.db, `${sha}.png`)).toMatchObject({
      generationId: shared.id,
      visibility: "public",
    });
    expect(
      await findGenerationByAssetKey(handle.db, `${sha}.png`, { accountId: alice.id }),
    ).toMatchObject({ generationId: mine.id, accountId: alice.id });
    expect(await findGenerationByAssetKey(handle.db, "missing.png")).toBeNull();
  });
});

describe("foreign keys", () => {
  it("deleting an account removes its generations and ledger; a charged generation alone cannot go", async () => {
    const doomed = await createAccount(handle.db, { name: "doomed", planId: "free" });
    const { generation } = await insertGeneration(handle.db, queued(doomed.id));
    await handle.db.insert(usageLedger).values({
      accountId: doomed.id,
      generationId: generation.id,
      kind: "reserve",
      amountMicrousd: 500,
    });
    await expect(
      handle.db.delete(generations).where(eq(generations.id, generation.id)),
    ).rejects.toThrow();
    await expect(
      handle.db.insert(usageLedger).values({
        accountId: doomed.id,
        generationId: generation.id,
        kind: "reserve",
        amountMicrousd: 500,
      }),
    ).rejects.toThrow();
    await handle.db.delete(accounts).where(eq(accounts.id, doomed.id));
    expect(await getGeneration(handle.db, generation.id)).toBeNull();
  });
});

describe("relations", () => {
  it("loads a generation with its account, refinements, feedback and style vector; one vote per account", async () => {
    const { generation: parent } = await insertGeneration(handle.db, queued(alice.id));
    const { generation: child } = await insertGeneration(
      handle.db,
      queued(alice.id, { parentGenerationId: parent.id, prompt: "more amber" }),
    );
    const vote = { generationId: parent.id, fetched: true, testMode: false };
    await handle.db.insert(feedback).values([
      { ...vote, accountId: alice.id, kind: "like", own: true },
      { ...vote, accountId: bob.id, kind: "report", reason: "spam", own: false },
    ]);
    // One vote per account and generation.
    await expect(
      handle.db.insert(feedback).values({ ...vote, accountId: bob.id, kind: "like", own: false }),
    ).rejects.toThrow();
    const loaded = await handle.db.query.generations.findFirst({
      where: (g, { eq }) => eq(g.id, parent.id),
      with: {
        account: { with: { plan: true } },
        refinements: true,
        feedback: true,
        styleEmbedding: true,
      },
    });
    expect(loaded?.account.plan.id).toBe("pro");
    expect(loaded?.refinements.map((g) => g.id)).toEqual([child.id]);
    expect(loaded?.feedback.map((f) => f.kind).sort()).toEqual(["like", "report"]);
    expect(loaded?.styleEmbedding).toBeNull();
    const refined = await handle.db.query.generations.findFirst({
      where: (g, { eq }) => eq(g.id, child.id),
      with: { parent: true },
    });
    expect(refined?.parent?.id).toBe(parent.id);
  });
});
