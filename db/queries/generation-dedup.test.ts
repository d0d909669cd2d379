import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import type { Account } from "../schema/accounts.ts";
import type { NewGenerationRow } from "../schema/generations.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import {
  activeFollowers,
  completeFollowers,
  expireIdempotencyKey,
  findInFlightLeader,
  insertGenerationOnce,
  moveFollowers,
  promoteFollower,
} from "./generation-dedup.ts";
import { cancelGeneration, completeGeneration, getGeneration } from "./generations.ts";
import { ledgerOf } from "./usage-ledger.ts";

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
const row = (accountId: string, extra: Partial<NewGenerationRow> = {}): NewGenerationRow => ({
  id: newId("generation"),
  accountId,
  model: "cppn-glove",
  modelVersion: "2026-11-27.1",
  prompt: "dedup",
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

describe("insertGenerationOnce", () => {
  it("lets one leader per account and dedup key be queued or running; others see it", async () => {
    const contentHash = `hash-${(hashes += 1)}`;
    const first = await insertGenerationOnce(handle.db, row(alice.id, { contentHash }));
    expect(first.kind).toBe("created");
    const second = await insertGenerationOnce(handle.db, row(alice.id, { contentHash }));
    expect(second).toMatchObject({
      kind: "in_flight",
      leader: { id: first.kind === "created" && first.generation.id },
    });
    // Another account, or a follower, or a finished generation: no conflict.
    expect((await insertGenerationOnce(handle.db, row(bob.id, { contentHash }))).kind).toBe(
      "created",
    );
    const leader = second.kind === "in_flight" ? second.leader : null;
    expect(
      (
        await insertGenerationOnce(
          handle.db,
          row(alice.id, { contentHash, mergedIntoGenerationId: leader!.id }),
        )
      ).kind,
    ).toBe("created");
    await completeGeneration(handle.db, leader!.id, output);
    expect(await findInFlightLeader(handle.db, alice.id, contentHash)).toBeNull();
    expect((await insertGenerationOnce(handle.db, row(alice.id, { contentHash }))).kind).toBe(
      "created",
    );
  });

  it("reports an Idempotency-Key the account already used", async () => {
    const first = await insertGenerationOnce(handle.db, row(alice.id, { idempotencyKey: "k-1" }));
    const again = await insertGenerationOnce(handle.db, row(alice.id, { idempotencyKey: "k-1" }));
    expect(again).toEqual({
      kind: "idempotent",
      generation: first.kind === "created" ? first.generation : null,
    });
  });

  it("concurrent identical inserts make exactly one leader", async () => {
    const contentHash = `hash-${(hashes += 1)}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        insertGenerationOnce(handle.db, row(alice.id, { contentHash })),
      ),
    );
    expect(results.filter((r) => r.kind === "created")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "in_flight")).toHaveLength(7);
  });
});

describe("followers", () => {
  it("complete with the leader's output at zero cost, or move to a promoted leader", async () => {
    const contentHash = `hash-${(hashes += 1)}`;
    const leader = await insertGenerationOnce(handle.db, row(alice.id, { contentHash }));
    if (leader.kind !== "created") throw new Error("expected a leader");
    const [a, b] = await Promise.all(
      [1, 2].map(async () => {
        const f = await insertGenerationOnce(
          handle.db,
          row(alice.id, { contentHash, mergedIntoGenerationId: leader.generation.id }),
        );
        return f.kind === "created" ? f.generation : null;
      }),
    );
    expect(
      (await activeFollowers(handle.db, leader.generation.id)).map((g) => g.id).sort(),
    ).toEqual([a!.id, b!.id].sort());

    // The leader is canceled: one follower becomes the leader, the other follows it.
    await cancelGeneration(handle.db, alice.id, leader.generation.id);
    const promoted = await promoteFollower(handle.db, a!);
    expect(promoted).toMatchObject({ id: a!.id, mergedIntoGenerationId: null });
    expect(await promoteFollower(handle.db, b!)).toBeNull(); // a leader exists now
    expect(await moveFollowers(handle.db, leader.generation.id, a!.id)).toBe(1);

    const done = await completeGeneration(handle.db, a!.id, output);
    const ended = await completeFollowers(handle.db, done!, new Date());
    expect(ended).toMatchObject([
      {
        id: b!.id,
        status: "succeeded",
        cached: true,
        gpuMs: 0,
        costActualMicrousd: 0,
        assetKey: output.assetKey,
        region: "eu-west",
      },
    ]);
  });
});

describe("expireIdempotencyKey", () => {
  it("frees a key only once its generation is older than the cut-off", async () => {
    const made = await insertGenerationOnce(
      handle.db,
      row(alice.id, {
        idempotencyKey: "k-old",
        requestHash: "h",
        createdAt: new Date("2026-11-01T00:00:00Z"),
      }),
    );
    if (made.kind !== "created") throw new Error("expected a new generation");
    expect(
      await expireIdempotencyKey(handle.db, made.generation.id, new Date("2026-11-01T00:00:00Z")),
    ).toBe(false);
    expect(
      await expireIdempotencyKey(handle.db, made.generation.id, new Date("2026-11-02T00:00:00Z")),
    ).toBe(true);
    expect(await getGeneration(handle.db, made.generation.id)).toMatchObject({
      idempotencyKey: null,
      requestHash: null,
    });
    expect(
      (await insertGenerationOnce(handle.db, row(alice.id, { idempotencyKey: "k-old" }))).kind,
    ).toBe("created");
  });
});
