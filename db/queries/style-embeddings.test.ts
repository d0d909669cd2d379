import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import { STYLE_EMBEDDING_DIMENSIONS } from "../schema/style-embeddings.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { completeGeneration, insertGeneration } from "./generations.ts";
import { createProject } from "./projects.ts";
import { findSimilarStyles, getStyleEmbedding, upsertStyleEmbedding } from "./style-embeddings.ts";

let handle: PgliteHandle;
let alice: Account;
let bob: Account;

/** A unit-ish vector pointing mostly along `axis`, tilted towards `axis + 1` by `tilt`. */
const direction = (axis: number, tilt = 0): number[] =>
  Array.from({ length: STYLE_EMBEDDING_DIMENSIONS }, (_, i) =>
    i === axis ? 1 : i === axis + 1 ? tilt : 0,
  );

async function finished(
  accountId: string,
  embedding: number[],
  projectId: string | null = null,
  modelVersion = "v1",
): Promise<string> {
  const { generation } = await insertGeneration(handle.db, {
    accountId,
    projectId,
    model: "cppn-glove",
    modelVersion,
    prompt: "p",
    params: { width: 64, height: 64, seed: 1, priority: "standard" },
  });
  await completeGeneration(handle.db, generation.id, {
    assetKey: `${generation.id}.png`,
    contentType: "image/png",
    bytes: 1,
    width: 64,
    height: 64,
    outputSha256: "0".repeat(64),
    gpuMs: 1,
    costActualMicrousd: 1,
  });
  await upsertStyleEmbedding(handle.db, { generationId: generation.id, embedding, modelVersion });
  return generation.id;
}

beforeAll(async () => {
  handle = await createTestDatabase();
  alice = await createAccount(handle.db, { name: "alice", planId: "pro" });
  bob = await createAccount(handle.db, { name: "bob", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

describe("style embeddings", () => {
  it("ranks by cosine similarity through the HNSW index, within what the caller may see", async () => {
    const gallery = await createProject(handle.db, {
      accountId: bob.id,
      name: "gallery",
      visibility: "public",
    });
    const exact = await finished(alice.id, direction(3));
    const close = await finished(alice.id, direction(3, 0.3));
    const publicClose = await finished(bob.id, direction(3, 0.5), gallery.id);
    const privateClosest = await finished(bob.id, direction(3, 0.01));
    const far = await finished(alice.id, direction(40));
    // Scale must not matter to cosine similarity.
    const query = direction(3).map((x) => x * 5);

    const results = await findSimilarStyles(handle.db, { embedding: query, accountId: alice.id });
    expect(results.map((r) => r.generation.id)).toEqual([exact, close, publicClose, far]);
    expect(results.map((r) => r.generation.id)).not.toContain(privateClosest);
    expect(results[0]?.score).toBeCloseTo(1, 6);
    expect(results[1]?.score).toBeCloseTo(1 / Math.sqrt(1 + 0.3 ** 2), 6);
    expect(results.at(-1)?.score).toBeCloseTo(0, 6);

    const forBob = await findSimilarStyles(handle.db, {
      embedding: query,
      accountId: bob.id,
      limit: 2,
      excludeGenerationId: privateClosest,
    });
    expect(forBob.map((r) => r.generation.id)).toEqual([publicClose]);

    await handle.db.$client.exec("set enable_seqscan = off");
    try {
      const plan = await handle.db.$client.query<{ "QUERY PLAN": string }>(
        `explain select generation_id from style_embeddings order by embedding <=> $1 limit 5`,
        [JSON.stringify(query)],
      );
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(
        /Index Scan using style_embeddings_embedding_idx/,
      );
    } finally {
      await handle.db.$client.exec("reset enable_seqscan");
    }
  });

  it("keeps model versions apart when asked and replaces a generation's vector", async () => {
    const id = await finished(alice.id, direction(60), null, "v2");
    const onlyV2 = await findSimilarStyles(handle.db, {
      embedding: direction(60),
      accountId: alice.id,
      modelVersion: "v2",
    });
    expect(onlyV2.map((r) => r.generation.id)).toEqual([id]);

    await upsertStyleEmbedding(handle.db, {
      generationId: id,
      embedding: direction(61),
      modelVersion: "v2",
    });
    expect((await getStyleEmbedding(handle.db, id))?.embedding).toEqual(direction(61));
    expect(await getStyleEmbedding(handle.db, "gen_missing")).toBeNull();
  });

  it("rejects vectors of the wrong dimension or with non-finite values", async () => {
    await expect(
      findSimilarStyles(handle.db, { embedding: [1, 2, 3], accountId: alice.id }),
    ).rejects.toThrow(RangeError);
    const bad = direction(0);
    bad[5] = Number.NaN;
    await expect(
      upsertStyleEmbedding(handle.db, { generationId: "gen_x", embedding: bad, modelVersion: "v" }),
    ).rejects.toThrow(RangeError);
  });
});
