import { describe, expect, it } from "vitest";
import { LocalVectorize, VectorizeLimitError } from "./vectorize-stand-in.ts";

// The stand-in refuses what Vectorize refuses (developers.cloudflare.com/vectorize/platform/limits
// and reference/metadata-filtering), so the style index's calls are checked against the service's
// rules here.

const unit = (dims: number, axis: number) =>
  Array.from({ length: dims }, (_, i) => (i === axis ? 1 : 0));

const index = () =>
  new LocalVectorize({
    dimensions: 4,
    metadataIndexes: { account: "string", at: "number", hidden: "boolean" },
  });

describe("LocalVectorize", () => {
  it("stores float32 vectors and answers cosine similarity, nearest first", async () => {
    const v = index();
    await v.upsert([
      { id: "a", values: [1, 0, 0, 0] },
      { id: "b", values: [1, 1, 0, 0], metadata: { account: "x" } },
      { id: "c", values: [0, 0, 1, 0] },
    ]);
    const { matches, count } = await v.query([2, 0, 0, 0], { topK: 3 });
    expect(matches.map((m) => m.id)).toEqual(["a", "b", "c"]);
    expect(matches.map((m) => m.score)).toEqual([1, expect.closeTo(Math.SQRT1_2, 6), 0]);
    expect(count).toBe(3);
    const [b] = await v.getByIds(["b", "missing"]);
    expect(b).toEqual({ id: "b", values: [1, 1, 0, 0], metadata: { account: "x" } });
    await v.upsert([{ id: "p", values: [0.1, 0.2, 0.3, 0.4] }]);
    expect((await v.getByIds(["p"]))[0]!.values).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
    await v.deleteByIds(["a", "nope"]);
    expect(v.size).toBe(3);
  });

  it("refuses what the service refuses on write", async () => {
    const v = index();
    const refusals = [
      [{ id: "a", values: [1, 0, 0] }], // dimensions
      [{ id: "x".repeat(65), values: unit(4, 0) }], // id over 64 bytes
      [{ id: "", values: unit(4, 0) }],
      [{ id: "a", values: [1, Number.NaN, 0, 0] }],
      [{ id: "a", values: unit(4, 0), metadata: { "a.b": 1 } }], // dot is for nesting
      [{ id: "a", values: unit(4, 0), metadata: { $x: 1 } }],
      [{ id: "a", values: unit(4, 0), metadata: { big: "x".repeat(10 * 1024) } }],
      [{ id: "a", values: unit(4, 0), namespace: "n".repeat(65) }],
      Array.from({ length: 1001 }, (_, i) => ({ id: `v${i}`, values: unit(4, i % 4) })),
    ];
    for (const batch of refusals) {
      await expect(v.upsert(batch)).rejects.toBeInstanceOf(VectorizeLimitError);
    }
    expect(v.size).toBe(0);
    expect(() => new LocalVectorize({ dimensions: 1537 })).toThrow(VectorizeLimitError);
    const many = new LocalVectorize({ dimensions: 4 });
    for (let i = 0; i < 10; i++) many.createMetadataIndex(`p${i}`, "string");
    expect(() => many.createMetadataIndex("p10", "string")).toThrow(VectorizeLimitError);
  });

  it("caps topK at 100, and at 20 when values or all metadata come back", async () => {
    const v = index();
    await v.upsert(
      Array.from({ length: 150 }, (_, i) => ({ id: `v${i}`, values: unit(4, i % 4) })),
    );
    expect((await v.query(unit(4, 0), { topK: 100 })).matches).toHaveLength(100);
    expect((await v.query(unit(4, 0))).matches).toHaveLength(5);
    await expect(v.query(unit(4, 0), { topK: 101 })).rejects.toBeInstanceOf(VectorizeLimitError);
    await expect(v.query(unit(4, 0), { topK: 21, returnValues: true })).rejects.toBeInstanceOf(
      VectorizeLimitError,
    );
    await expect(v.query(unit(4, 0), { topK: 21, returnMetadata: "all" })).rejects.toBeInstanceOf(
      VectorizeLimitError,
    );
    expect((await v.query(unit(4, 0), { topK: 100, returnMetadata: "indexed" })).count).toBe(100);
    await expect(v.query([1, 0], { topK: 1 })).rejects.toBeInstanceOf(VectorizeLimitError);
  });

  it("pre-filters on indexed metadata with the documented operators and rules", async () => {
    const v = index();
    await v.upsert([
      { id: "a", values: unit(4, 0), metadata: { account: "alice", at: 1, hidden: false } },
      { id: "b", values: unit(4, 0), metadata: { account: "bob", at: 2, hidden: false } },
      { id: "c", values: unit(4, 0), metadata: { account: "bob", at: 3, hidden: true } },
      { id: "d", values: unit(4, 0), metadata: { account: "x".repeat(70), at: 4 } },
    ]);
    const found = async (filter: Parameters<LocalVectorize["query"]>[1]) =>
      (await v.query(unit(4, 0), { topK: 10, ...filter })).matches.map((m) => m.id).sort();
    expect(await found({ filter: { account: "bob" } })).toEqual(["b", "c"]);
    expect(await found({ filter: { account: { $ne: "bob" }, hidden: false } })).toEqual(["a"]);
    expect(await found({ filter: { at: { $gte: 2, $lt: 4 } } })).toEqual(["b", "c"]);
    expect(
      await found({ filter: { account: { $in: ["alice", "bob"] }, hidden: { $eq: false } } }),
    ).toEqual(["a", "b"]);
    expect(await found({ filter: { account: { $nin: ["bob"] } } })).toEqual(["a", "d"]);
    // Strings are indexed on their first 64 bytes.
    expect(await found({ filter: { account: "x".repeat(64) } })).toEqual(["d"]);
    const bad = [
      {},
      { model: "m" }, // no metadata index
      { account: { $regex: "a" } },
      { account: { $in: "alice" } },
      { "": 1 },
      { account: "x".repeat(2100) },
    ];
    for (const filter of bad) {
      await expect(v.query(unit(4, 0), { filter: filter as never })).rejects.toBeInstanceOf(
        VectorizeLimitError,
      );
    }
  });
});
