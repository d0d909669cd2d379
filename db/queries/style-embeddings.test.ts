import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import { STYLE_EMBEDDING_DIMENSIONS } from "../schema/style-embeddings.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { insertGeneration } from "./generations.ts";
import {
  getStyleRecord,
  markStyleIndexed,
  recordStyle,
  setProjectStyleVisibility,
  setStyleHidden,
  unindexedStyleRecords,
} from "./style-embeddings.ts";

let handle: PgliteHandle;
let alice: Account;

const axis = (i: number): number[] =>
  Array.from({ length: STYLE_EMBEDDING_DIMENSIONS }, (_, j) => (j === i ? 1 : 0));

async function recorded(opts: { projectId?: string; embedding?: number[] } = {}) {
  const { generation } = await insertGeneration(handle.db, {
    accountId: alice.id,
    model: "cppn-glove",
    modelVersion: "v",
    prompt: "p",
    params: { width: 64, height: 64, seed: 1, priority: "standard" },
  });
  await recordStyle(handle.db, {
    generationId: generation.id,
    accountId: alice.id,
    projectId: opts.projectId ?? null,
    model: "cppn-glove",
    modelVersion: "v",
    descriptor: "genart-style/1",
    embedding: opts.embedding ?? axis(1),
    generatedAt: generation.createdAt,
  });
  return generation.id;
}

beforeAll(async () => {
  handle = await createTestDatabase();
  alice = await createAccount(handle.db, { name: "alice", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

describe("style records", () => {
  it("are written once and read back; unknown ids are null", async () => {
    const id = await recorded({ embedding: axis(3) });
    await recordStyle(handle.db, {
      generationId: id,
      accountId: alice.id,
      model: "other",
      modelVersion: "v",
      descriptor: "genart-style/1",
      embedding: axis(9),
      generatedAt: new Date(),
    });
    expect(await getStyleRecord(handle.db, id)).toMatchObject({
      model: "cppn-glove",
      embedding: axis(3),
      visibility: "private",
      hidden: false,
      indexedAt: null,
      styleVector: null,
    });
    expect(await getStyleRecord(handle.db, "gen_missing")).toBeNull();
  });

  it("stay in the outbox until marked, and a change after the read keeps them there", async () => {
    const a = await recorded();
    const b = await recorded();
    const pending = await unindexedStyleRecords(handle.db, 1000);
    expect(pending.map((r) => r.generationId)).toEqual(expect.arrayContaining([a, b]));
    await new Promise((r) => setTimeout(r, 5));
    expect(await setStyleHidden(handle.db, [b], true)).toBe(1);
    await markStyleIndexed(handle.db, pending, new Date());
    const left = (await unindexedStyleRecords(handle.db, 1000)).map((r) => r.generationId);
    expect(left).not.toContain(a);
    expect(left).toContain(b);
    expect((await getStyleRecord(handle.db, b))?.hidden).toBe(true);
    // Asking for what already holds changes nothing.
    expect(await setStyleHidden(handle.db, [b], true)).toBe(0);
  });

  it("follow their project's visibility", async () => {
    const id = await recorded({ projectId: "proj_x" });
    await markStyleIndexed(handle.db, await unindexedStyleRecords(handle.db, 1000), new Date());
    expect(await setProjectStyleVisibility(handle.db, "proj_x", "public")).toBe(1);
    expect(await getStyleRecord(handle.db, id)).toMatchObject({
      visibility: "public",
      indexedAt: null,
    });
  });

  it("refuse embeddings of the wrong length or with non-finite values", async () => {
    const base = {
      generationId: "gen_x",
      accountId: alice.id,
      model: "m",
      modelVersion: "v",
      descriptor: "d",
      generatedAt: new Date(),
    };
    await expect(recordStyle(handle.db, { ...base, embedding: [1, 2, 3] })).rejects.toThrow(
      RangeError,
    );
    const bad = axis(0);
    bad[5] = Number.NaN;
    await expect(recordStyle(handle.db, { ...base, embedding: bad })).rejects.toThrow(RangeError);
  });
});
