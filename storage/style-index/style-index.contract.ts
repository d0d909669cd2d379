import { beforeEach, describe, expect, it } from "vitest";
import { STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import {
  InvalidStyleQueryError,
  MAX_STYLE_RESULTS,
  type StyleEntry,
  type StyleHit,
  type StyleIndex,
  type StyleQuery,
} from "./style-index.ts";

// The behaviour every StyleIndex shares (Postgres shard, Vectorize index, and the sharded index
// over either); each implementation's test file runs this suite. `fresh` gives an empty index.

const ALICE = "acct_alice000000000000000000000";
const BOB = "acct_bob00000000000000000000000";
const T0 = Date.UTC(2026, 11, 1);

/** A unit vector mostly along `axis`, tilted towards `axis + 1` by `tilt`. */
export function direction(axis: number, tilt = 0): number[] {
  const v = Array.from({ length: STYLE_EMBEDDING_DIMS }, (_, i) =>
    i === axis ? 1 : i === axis + 1 ? tilt : 0,
  );
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

let serial = 0;
export function entry(over: Partial<StyleEntry> = {}): StyleEntry {
  serial += 1;
  return {
    id: `gen_${String(serial).padStart(26, "0")}`,
    accountId: ALICE,
    projectId: null,
    model: "cppn-glove",
    modelVersion: "2026-12-01.1",
    visibility: "private",
    hidden: false,
    generatedAt: T0 + serial * 1000,
    embedding: direction(3),
    ...over,
  };
}

const ids = (hits: StyleHit[]) => hits.map((h) => h.id);
const ask = (index: StyleIndex, embedding: number[], over: Partial<StyleQuery> = {}) =>
  index.query({ embedding, viewer: { accountId: ALICE }, limit: 10, ...over });

export function describeStyleIndexContract(name: string, fresh: () => Promise<StyleIndex>): void {
  describe(`${name} (StyleIndex contract)`, () => {
    let index: StyleIndex;
    beforeEach(async () => {
      index = await fresh();
    });

    it("ranks the viewer's entries nearest first by cosine distance, whatever their scale", async () => {
      const exact = entry({ embedding: direction(3).map((x) => x * 7) });
      const close = entry({ embedding: direction(3, 0.3) });
      const farther = entry({ embedding: direction(3, 1) });
      const far = entry({ embedding: direction(40) });
      await index.upsert([far, close, exact, farther]);
      const hits = await ask(
        index,
        direction(3).map((x) => x / 3),
      );
      expect(ids(hits)).toEqual([exact.id, close.id, farther.id, far.id]);
      expect(hits[0]!.distance).toBeCloseTo(0, 5);
      expect(hits[1]!.distance).toBeCloseTo(1 - 1 / Math.hypot(1, 0.3), 5);
      expect(hits[3]!.distance).toBeCloseTo(1, 5);
      expect(ids(await ask(index, direction(3), { limit: 2 }))).toEqual([exact.id, close.id]);
    });

    it("never returns another account's private entries, whatever the query", async () => {
      const secret = entry({ accountId: BOB, embedding: direction(5), projectId: "proj_bob" });
      const secretToo = entry({ accountId: BOB, embedding: direction(5, 0.1) });
      const mine = entry({ embedding: direction(60) });
      await index.upsert([secret, secretToo, mine]);
      const queries: Array<Partial<StyleQuery>> = [
        {},
        { limit: MAX_STYLE_RESULTS },
        { filters: { projectId: "proj_bob" } },
        { filters: { model: "cppn-glove", from: T0, to: T0 + 1e12 } },
        { after: { distance: -1, id: "" } },
      ];
      for (const over of queries) {
        const found = ids(await ask(index, direction(5), over));
        expect(found).not.toContain(secret.id);
        expect(found).not.toContain(secretToo.id);
      }
      expect(ids(await ask(index, direction(5)))).toEqual([mine.id]);
      // Bob sees his own.
      const bobs = await ask(index, direction(5), { viewer: { accountId: BOB } });
      expect(ids(bobs)).toEqual([secret.id, secretToo.id]);
    });

    it("returns other accounts' public entries, and never hidden ones, own or public", async () => {
      const shared = entry({ accountId: BOB, visibility: "public", embedding: direction(7) });
      const hiddenShared = entry({
        accountId: BOB,
        visibility: "public",
        hidden: true,
        embedding: direction(7),
      });
      const hiddenMine = entry({ hidden: true, embedding: direction(7) });
      const minePublic = entry({ visibility: "public", embedding: direction(7, 0.2) });
      await index.upsert([shared, hiddenShared, hiddenMine, minePublic]);
      expect(ids(await ask(index, direction(7)))).toEqual([shared.id, minePublic.id]);
      const asBob = await ask(index, direction(7), { viewer: { accountId: BOB } });
      expect(ids(asBob)).toEqual([shared.id, minePublic.id]);
    });

    it("narrows by project, model, version and date, and leaves one id out", async () => {
      const a = entry({ projectId: "proj_a", generatedAt: T0 + 10_000_000 });
      const b = entry({ projectId: "proj_b", model: "other", generatedAt: T0 + 20_000_000 });
      const c = entry({ modelVersion: "v-old", generatedAt: T0 + 30_000_000 });
      await index.upsert([a, b, c]);
      const query = (filters: StyleQuery["filters"]) =>
        ask(index, direction(3), { filters }).then((hits) => ids(hits).sort());
      expect(await query({ projectId: "proj_a" })).toEqual([a.id]);
      expect(await query({ model: "other" })).toEqual([b.id]);
      expect(await query({ model: "cppn-glove", modelVersion: "v-old" })).toEqual([c.id]);
      expect(await query({ from: T0 + 15_000_000 })).toEqual([b.id, c.id].sort());
      expect(await query({ to: T0 + 20_000_000 })).toEqual([a.id]);
      expect(await query({ from: T0 + 20_000_000, to: T0 + 30_000_000 })).toEqual([b.id]);
      expect(await query({ excludeId: a.id })).toEqual([b.id, c.id].sort());
    });

    it("pages after a cursor: the pages join into one ranking without gaps or repeats", async () => {
      const entries = Array.from({ length: 23 }, (_, i) =>
        entry({ embedding: direction(10, i * 0.05) }),
      );
      // Two entries at the same distance: the id breaks the tie.
      const twin = entry({ embedding: direction(10, 0.05) });
      await index.upsert([...entries, twin]);
      const whole = await ask(index, direction(10), { limit: 30 });
      expect(whole).toHaveLength(24);
      const pages: StyleHit[] = [];
      let after: StyleHit | undefined;
      for (;;) {
        const page = await ask(index, direction(10), { limit: 5, ...(after && { after }) });
        pages.push(...page);
        if (page.length < 5) break;
        after = page.at(-1);
      }
      expect(ids(pages)).toEqual(ids(whole));
    });

    it("replaces an entry on upsert: its vector, its visibility, its hidden flag", async () => {
      const e = entry({ accountId: BOB, visibility: "public", embedding: direction(20) });
      await index.upsert([e]);
      expect(ids(await ask(index, direction(20)))).toEqual([e.id]);
      await index.upsert([{ ...e, embedding: direction(21) }]);
      const moved = await ask(index, direction(21));
      expect(ids(moved)).toEqual([e.id]);
      expect(moved[0]!.distance).toBeCloseTo(0, 5);
      await index.upsert([{ ...e, embedding: direction(21), visibility: "private" }]);
      expect(await ask(index, direction(21))).toEqual([]);
      await index.upsert([{ ...e, embedding: direction(21), visibility: "public", hidden: true }]);
      expect(await ask(index, direction(21))).toEqual([]);
      expect(ids(await ask(index, direction(21), { viewer: { accountId: BOB } }))).toEqual([]);
    });

    it("removes entries; unknown ids are ignored", async () => {
      const keep = entry({ embedding: direction(30) });
      const drop = entry({ embedding: direction(30, 0.1) });
      await index.upsert([keep, drop]);
      await index.remove([drop.id, "gen_unknown"]);
      await index.remove([]);
      expect(ids(await ask(index, direction(30)))).toEqual([keep.id]);
    });

    it("finds all of a small tenant's entries among many closer ones it may not see", async () => {
      // Bob's 400 private entries crowd the query's neighbourhood; Alice's 3 are far. A filter
      // applied only after a bounded graph walk would lose them.
      const crowd = Array.from({ length: 400 }, (_, i) =>
        entry({ accountId: BOB, embedding: direction(50, (i % 40) * 0.01) }),
      );
      const mine = [0.9, 1.2, 1.5].map((tilt) => entry({ embedding: direction(50, tilt) }));
      await index.upsert([...crowd, ...mine]);
      expect(ids(await ask(index, direction(50)))).toEqual(mine.map((m) => m.id));
    });

    it("refuses bad embeddings and limits before doing anything", async () => {
      const bad: Array<Partial<StyleQuery>> = [
        { embedding: [1, 2, 3] },
        { embedding: direction(1).map((x, i) => (i === 1 ? Number.NaN : x)) },
        { embedding: new Array<number>(STYLE_EMBEDDING_DIMS).fill(0) },
        { limit: 0 },
        { limit: MAX_STYLE_RESULTS + 1 },
        { limit: 2.5 },
      ];
      for (const over of bad) {
        await expect(
          index.query({ embedding: direction(1), viewer: { accountId: ALICE }, limit: 5, ...over }),
        ).rejects.toBeInstanceOf(InvalidStyleQueryError);
      }
      await expect(index.upsert([entry({ embedding: [1] })])).rejects.toBeInstanceOf(
        InvalidStyleQueryError,
      );
      await expect(index.upsert([entry({ id: "x".repeat(65) })])).rejects.toBeInstanceOf(
        InvalidStyleQueryError,
      );
    });
  });
}
