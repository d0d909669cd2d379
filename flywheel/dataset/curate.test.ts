import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../db/queries/accounts.ts";
import type { Account } from "../../db/schema/accounts.ts";
import { assetFetches } from "../../db/schema/asset-fetches.ts";
import { feedback } from "../../db/schema/feedback.ts";
import { generations } from "../../db/schema/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../../db/testing.ts";
import { curate } from "./curate.ts";
import { readDataset } from "./read-dataset.ts";

let handle: PgliteHandle;
let out: string;
let owner: Account;
const voters: Account[] = [];
const ids: string[] = [];

beforeAll(async () => {
  handle = await createTestDatabase();
  out = await mkdtemp(join(tmpdir(), "curate-"));
  owner = await createAccount(handle.db, { name: "owner", planId: "pro" });
  for (let i = 0; i < 3; i++)
    voters.push(await createAccount(handle.db, { name: `v${i}`, planId: "pro" }));
  // Three outputs of one prompt, one of another; one hidden by reports.
  const rows = await handle.db
    .insert(generations)
    .values(
      ["sunset", "sunset", "sunset", "forest", "sunset"].map((prompt, i) => ({
        accountId: owner.id,
        model: "cppn-glove",
        modelVersion: "1",
        prompt,
        params: { width: 64, height: 64, seed: i, priority: "standard" as const },
        status: "succeeded" as const,
        assetKey: `key${i}.png`,
        outputSha256: `${i}`.repeat(64),
        createdAt: new Date(Date.UTC(2026, 11, 1 + i)),
        reviewState: i === 4 ? ("pending" as const) : null,
      })),
    )
    .returning({ id: generations.id });
  ids.push(...rows.map((r) => r.id));
  const vote = (g: number, v: number, kind: "like" | "dislike" | "report") => ({
    generationId: ids[g]!,
    accountId: voters[v]!.id,
    kind,
    own: false,
    testMode: false,
    fetched: true,
  });
  await handle.db.insert(feedback).values([
    vote(0, 0, "like"),
    vote(0, 1, "like"),
    vote(1, 0, "dislike"),
    vote(2, 0, "like"),
    vote(3, 0, "like"),
    vote(4, 0, "like"),
    // The owner's own like never counts; a test-mode vote neither.
    { ...vote(1, 0, "like"), accountId: owner.id, own: true },
    { ...vote(1, 2, "like"), testMode: true },
  ]);
  await handle.db.insert(assetFetches).values({ accountId: voters[2]!.id, assetKey: "key2.png" });
});
afterAll(async () => {
  await handle?.close();
  await rm(out, { recursive: true, force: true });
});

const run = () =>
  curate(handle.db, {
    model: "cppn-glove",
    outDir: out,
    publicUrl: "https://edge.example",
    // Only some bytes are at hand: the others are written as URLs.
    readImage: async (key) =>
      key === "key0.png" || key === "key1.png" ? new TextEncoder().encode(key) : null,
  });

describe("flywheel curate", () => {
  it("writes preference pairs within a prompt, a likes set, images and a manifest", async () => {
    const { dir, manifest } = await run();
    const dataset = await readDataset(dir);
    // Scores: g0 2 likes = 2; g2 1 like + 1 download = 1.25; g1 1 dislike = -1. g3 is alone
    // in its prompt; g4 is hidden.
    expect(dataset.pairs.map((p) => [p.chosen.generation, p.rejected.generation])).toEqual([
      [ids[0], ids[1]],
      [ids[2], ids[1]],
      [ids[0], ids[2]],
    ]);
    expect(dataset.pairs[0]).toMatchObject({
      prompt: "sunset",
      label: 1,
      chosen: { score: 2, image: expect.stringMatching(/^images\//) },
    });
    expect(dataset.pairs[1]!.chosen.image).toBe(`https://edge.example/v1/assets/key2.png`);
    expect(dataset.likes.map((l) => l.output.generation).sort()).toEqual(
      [ids[0], ids[2], ids[3]].sort(),
    );
    expect(manifest.counts).toMatchObject({
      pairs: 3,
      likes: 3,
      images: 2,
      ties_dropped: 0,
      votes_excluded: 3,
    });
    expect(manifest.date_range.from).toBe("2026-12-01T00:00:00.000Z");
    expect(await readFile(join(dir, "README.md"), "utf8")).toMatch(/preference pairs \| 3/);
  });

  it("is deterministic: the same database state gives the same id and bytes", async () => {
    const a = await run();
    const b = await run();
    expect(b.manifest.id).toBe(a.manifest.id);
    expect(b.dir).toBe(a.dir);
    expect(b.manifest.files).toEqual(a.manifest.files);
  });
});
