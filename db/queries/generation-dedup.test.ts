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
  insertGenerationWithReservation,
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

describe("insertGenerationWithReservation", () => {
  it("writes the generation and its reservation together; returns the row as stored", async () => {
    const values = row(alice.id, { projectId: null, costEstimatedMicrousd: 1_234 });
    const written = await insertGenerationWithReservation(handle.db, values, {
      reserveMicrousd: 1_234,
    });
    expect(written).not.toBeNull();
    expect(written!.lateSourceId).toBeNull();
    expect(written!.generation).toEqual(await getGeneration(handle.db, values.id!));
    expect(await ledgerOf(handle.db, values.id!)).toMatchObject([
      {
        accountId: alice.id,
        generationId: values.id,
        kind: "reserve",
        amountMicrousd: 1_234,
        modelVersion: "2026-11-27.1",
        createdAt: written!.generation.createdAt,
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
      expect(
        await insertGenerationWithReservation(handle.db, values, { reserveMicrousd: 3 }),
      ).not.toBeNull();
    }
    const [ra, rb] = [await getGeneration(handle.db, a.id!), await getGeneration(handle.db, b.id!)];
    expect(ra).toMatchObject({ prompt: "shape 1", metadata: { n: "1" }, createdAt: a.createdAt });
    expect(rb).toMatchObject({ prompt: "shape 2", metadata: { n: "2" }, createdAt: b.createdAt });
    expect(ra!.updatedAt.getTime()).not.toBe(0);
    const [la] = await ledgerOf(handle.db, a.id!);
    const [lb] = await ledgerOf(handle.db, b.id!);
    expect(la!.id).not.toBe(lb!.id);
    // A null JSON column is SQL NULL, not JSON null.
    const { rows } = await handle.db.$client.query<{ nulls: boolean }>(
      "select style is null and webhook is null as nulls from generations where id = $1",
      [b.id],
    );
    expect(rows).toEqual([{ nulls: true }]);
  });

  it("writes nothing on any conflict: Idempotency-Key, an identical leader in flight", async () => {
    const first = row(alice.id, { idempotencyKey: "k-fast", contentHash: `hash-${++hashes}` });
    expect(
      await insertGenerationWithReservation(handle.db, first, { reserveMicrousd: 5 }),
    ).not.toBeNull();
    const sameKey = row(alice.id, { idempotencyKey: "k-fast" });
    expect(
      await insertGenerationWithReservation(handle.db, sameKey, { reserveMicrousd: 5 }),
    ).toBeNull();
    const sameWork = row(alice.id, { contentHash: first.contentHash });
    expect(
      await insertGenerationWithReservation(handle.db, sameWork, { reserveMicrousd: 5 }),
    ).toBeNull();
    for (const id of [sameKey.id!, sameWork.id!]) {
      expect(await getGeneration(handle.db, id)).toBeNull();
      expect(await ledgerOf(handle.db, id)).toEqual([]);
    }
  });

  it("reports the earliest succeeded generation with the dedup key, never itself", async () => {
    const contentHash = `hash-${++hashes}`;
    const none = await insertGenerationWithReservation(handle.db, row(alice.id, { contentHash }), {
      reserveMicrousd: 5,
      lateContentHash: contentHash,
    });
    expect(none!.lateSourceId).toBeNull();
    await completeGeneration(handle.db, none!.generation.id, output);
    const later = await insertGenerationWithReservation(handle.db, row(alice.id, { contentHash }), {
      reserveMicrousd: 5,
      lateContentHash: contentHash,
    });
    expect(later!.lateSourceId).toBe(none!.generation.id);
    // Without a hash to look for, nothing is looked up.
    const plain = await insertGenerationWithReservation(handle.db, row(bob.id, { contentHash }), {
      reserveMicrousd: 5,
    });
    expect(plain!.lateSourceId).toBeNull();
  });

  it("concurrent identical writes make exactly one leader and one reservation", async () => {
    const contentHash = `hash-${++hashes}`;
    const attempts = Array.from({ length: 6 }, () => row(alice.id, { contentHash }));
    const results = await Promise.all(
      attempts.map((values) =>
        insertGenerationWithReservation(handle.db, values, { reserveMicrousd: 7 }),
      ),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    const ledgers = await Promise.all(attempts.map((values) => ledgerOf(handle.db, values.id!)));
    expect(ledgers.flat()).toHaveLength(1);
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
