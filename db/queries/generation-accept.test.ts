import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import type { Account } from "../schema/accounts.ts";
import type { NewGenerationRow } from "../schema/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import {
  acceptGenerationRow,
  generationAsWritten,
  insertFinishedGeneration,
} from "./generation-accept.ts";
import { completeGeneration, getGeneration } from "./generations.ts";
import { ledgerOf } from "./usage-ledger.ts";
import { webhookDeliveries } from "../schema/webhook-deliveries.ts";
import { eq } from "drizzle-orm";

let handle: PgliteHandle;
let alice: Account;
let bob: Account;
beforeAll(async () => {
  handle = await createTestDatabase();
  alice = await createAccount(handle.db, { name: "alice", planId: "pro" });
  bob = await createAccount(handle.db, { name: "bob", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

let hashes = 0;
const row = (
  accountId: string,
  extra: Partial<NewGenerationRow> = {},
): NewGenerationRow & { id: string } => ({
  id: newId("generation"),
  accountId,
  model: "cppn-glove",
  modelVersion: "2026-11-27.1",
  prompt: "accept",
  params: { width: 512, height: 512, seed: 7, priority: "standard" },
  ...extra,
});
const output = {
  assetKey: `${"c".repeat(64)}.png`,
  contentType: "image/png",
  bytes: 10,
  width: 512,
  height: 512,
  outputSha256: "c".repeat(64),
  gpuMs: 20,
  costActualMicrousd: 20,
  region: "eu-west",
};

describe("acceptGenerationRow", () => {
  it("writes the generation and its reservation together; returns the row as stored", async () => {
    const values = row(alice.id, {
      projectId: null,
      costEstimatedMicrousd: 1_234,
      region: "eu-west",
      jobId: "gen_x",
      routedAt: new Date("2026-11-27T12:00:00.123Z"),
      leaseExpiresAt: new Date("2026-11-27T12:01:00Z"),
    });
    const written = await acceptGenerationRow(handle.db, values, { reserveMicrousd: 1_234 });
    if (written.kind !== "created") throw new Error(`expected created, got ${written.kind}`);
    expect(written.generation).toEqual(await getGeneration(handle.db, values.id));
    expect(written.generation).toMatchObject({
      status: "queued",
      metadata: {},
      attempts: [],
      cached: false,
      priceMultiplier: 1,
      mode: "live",
      region: "eu-west",
      routedAt: values.routedAt,
    });
    expect(await ledgerOf(handle.db, values.id)).toMatchObject([
      {
        accountId: alice.id,
        generationId: values.id,
        kind: "reserve",
        amountMicrousd: 1_234,
        modelVersion: "2026-11-27.1",
        region: null,
        createdAt: written.generation.createdAt,
      },
    ]);
  });

  it("keeps each call's values though the statement is built once per row shape", async () => {
    const shaped = (n: number) =>
      row(alice.id, {
        prompt: `shape ${n}`,
        style: null,
        webhook: null,
        metadata: { n: String(n) },
        createdAt: new Date(Date.UTC(2026, 10, n)),
      });
    const [a, b] = [shaped(1), shaped(2)];
    for (const values of [a, b]) {
      expect((await acceptGenerationRow(handle.db, values, { reserveMicrousd: 3 })).kind).toBe(
        "created",
      );
    }
    const [ra, rb] = [await getGeneration(handle.db, a.id), await getGeneration(handle.db, b.id)];
    expect(ra).toMatchObject({ prompt: "shape 1", metadata: { n: "1" }, createdAt: a.createdAt });
    expect(rb).toMatchObject({ prompt: "shape 2", metadata: { n: "2" }, createdAt: b.createdAt });
    expect(ra!.updatedAt.getTime()).not.toBe(0);
    const [la] = await ledgerOf(handle.db, a.id);
    const [lb] = await ledgerOf(handle.db, b.id);
    expect(la!.id).not.toBe(lb!.id);
    // A null JSON column is SQL NULL, not JSON null.
    const { rows } = await handle.db.$client.query<{ nulls: boolean }>(
      "select style is null and webhook is null as nulls from generations where id = $1",
      [b.id],
    );
    expect(rows).toEqual([{ nulls: true }]);
  });

  it("answers with the earlier generation of an Idempotency-Key, writing nothing", async () => {
    const first = row(alice.id, { idempotencyKey: "k-accept", requestHash: "h" });
    expect((await acceptGenerationRow(handle.db, first, { reserveMicrousd: 5 })).kind).toBe(
      "created",
    );
    const again = row(alice.id, { idempotencyKey: "k-accept", requestHash: "h" });
    const replay = await acceptGenerationRow(handle.db, again, { reserveMicrousd: 5 });
    expect(replay).toMatchObject({ kind: "idempotent", generation: { id: first.id } });
    // Another account's key of the same name is its own.
    const bobs = row(bob.id, { idempotencyKey: "k-accept" });
    expect((await acceptGenerationRow(handle.db, bobs, { reserveMicrousd: 5 })).kind).toBe(
      "created",
    );
    expect(await getGeneration(handle.db, again.id)).toBeNull();
    expect(await ledgerOf(handle.db, again.id)).toEqual([]);
  });

  it("answers with the earliest succeeded generation of the dedup key, writing nothing", async () => {
    const contentHash = `hash-${++hashes}`;
    const first = row(alice.id, { contentHash });
    expect((await acceptGenerationRow(handle.db, first, { reserveMicrousd: 5 })).kind).toBe(
      "created",
    );
    // In flight: an identical request conflicts with its leader (insertGenerationOnce sorts it).
    const twin = row(alice.id, { contentHash });
    expect((await acceptGenerationRow(handle.db, twin, { reserveMicrousd: 5 })).kind).toBe(
      "conflict",
    );
    await completeGeneration(handle.db, first.id, output);
    const hit = row(alice.id, { contentHash });
    const answered = await acceptGenerationRow(handle.db, hit, { reserveMicrousd: 5 });
    expect(answered).toMatchObject({
      kind: "cached",
      source: { id: first.id, assetKey: output.assetKey, params: first.params },
    });
    if (answered.kind === "cached") expect(answered.source.createdAt).toBeInstanceOf(Date);
    for (const id of [twin.id, hit.id]) {
      expect(await getGeneration(handle.db, id)).toBeNull();
      expect(await ledgerOf(handle.db, id)).toEqual([]);
    }
  });

  it("concurrent identical writes make exactly one leader and one reservation", async () => {
    const contentHash = `hash-${++hashes}`;
    const attempts = Array.from({ length: 6 }, () => row(alice.id, { contentHash }));
    const results = await Promise.all(
      attempts.map((values) => acceptGenerationRow(handle.db, values, { reserveMicrousd: 7 })),
    );
    expect(results.filter((r) => r.kind === "created")).toHaveLength(1);
    const ledgers = await Promise.all(attempts.map((values) => ledgerOf(handle.db, values.id)));
    expect(ledgers.flat()).toHaveLength(1);
  });
});

describe("insertFinishedGeneration", () => {
  it("writes a finished row, its cached ledger row and its webhook message at once", async () => {
    const at = new Date("2026-11-27T12:00:00Z");
    const values = generationAsWritten(
      row(alice.id, {
        ...output,
        status: "succeeded",
        cached: true,
        gpuMs: 0,
        costActualMicrousd: 0,
        completedAt: at,
        startedAt: at,
      }),
      at,
    );
    const webhook = {
      id: newId("webhookDelivery"),
      generationId: values.id,
      event: "succeeded" as const,
      url: "https://hooks.example/x",
      body: "{}",
      nextAttemptAt: at,
      createdAt: at,
    };
    const written = await insertFinishedGeneration(handle.db, values, {
      savedMicrousd: 42,
      webhook,
    });
    expect(written).toEqual({ generation: values, deliveryId: webhook.id });
    expect(await ledgerOf(handle.db, values.id)).toMatchObject([
      { kind: "cached", amountMicrousd: 0, savedMicrousd: 42, region: "eu-west" },
    ]);
    const [message] = await handle.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.generationId, values.id));
    expect(message).toMatchObject({ id: webhook.id, event: "succeeded", nextAttemptAt: at });

    // Without a webhook: no message; a conflicting row: nothing at all.
    const finished = (extra: Partial<NewGenerationRow>) =>
      generationAsWritten(row(alice.id, { ...output, status: "succeeded", ...extra }), at);
    const plain = finished({ idempotencyKey: "k-fin" });
    expect(
      await insertFinishedGeneration(handle.db, plain, { savedMicrousd: 0, webhook: null }),
    ).toMatchObject({ deliveryId: null });
    const twin = finished({ idempotencyKey: "k-fin" });
    expect(
      await insertFinishedGeneration(handle.db, twin, { savedMicrousd: 0, webhook: null }),
    ).toBeNull();
    expect(await ledgerOf(handle.db, twin.id)).toEqual([]);
  });
});
