import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../schema/accounts.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { insertGeneration } from "./generations.ts";
import {
  closeReservation,
  insertReservation,
  ledgerOf,
  readSpendSnapshot,
} from "./usage-ledger.ts";

let handle: PgliteHandle;
let account: Account;
beforeAll(async () => {
  handle = await createTestDatabase();
  account = await createAccount(handle.db, { name: "ledger", planId: "pro" });
});
afterAll(async () => {
  await handle?.close();
});

const NOV = new Date("2026-11-10T10:00:00Z");
const at = (iso: string) => new Date(iso);

async function generation(accountId: string, createdAt = NOV) {
  const { generation } = await insertGeneration(handle.db, {
    accountId,
    model: "cppn-glove",
    modelVersion: "2026-11-27.1",
    prompt: "ledger",
    params: { width: 512, height: 512, seed: 1, priority: "standard" },
    createdAt,
    region: "eu-west",
  });
  return generation;
}

describe("usage ledger", () => {
  it("reserves once, closes once, and sums to the charge", async () => {
    const g = await generation(account.id);
    expect(await insertReservation(handle.db, g, 50)).toMatchObject({ kind: "reserve" });
    expect(await insertReservation(handle.db, g, 50)).toBeNull();
    const close = { kind: "settle", chargedMicrousd: 32, gpuMs: 32, at: NOV } as const;
    expect(await closeReservation(handle.db, g, close)).toMatchObject({
      reservedMicrousd: 50,
      entry: { kind: "settle", amountMicrousd: -18, gpuMs: 32, region: "eu-west" },
    });
    expect(await closeReservation(handle.db, g, close)).toBeNull();
    const rows = await ledgerOf(handle.db, g.id);
    expect(rows.map((r) => [r.kind, r.amountMicrousd])).toEqual([
      ["reserve", 50],
      ["settle", -18],
    ]);
  });

  it("refunds the whole reservation, and has nothing to close without one", async () => {
    const g = await generation(account.id);
    await insertReservation(handle.db, g, 40);
    const refund = { kind: "refund", chargedMicrousd: 99, gpuMs: null, at: NOV } as const;
    expect((await closeReservation(handle.db, g, refund))?.entry.amountMicrousd).toBe(-40);
    const unreserved = await generation(account.id);
    expect(await closeReservation(handle.db, unreserved, refund)).toBeNull();
  });

  it("snapshots the month's spend with the holds still open", async () => {
    const other = await createAccount(handle.db, { name: "snapshot", planId: "pro" });
    const october = await generation(other.id, at("2026-10-31T23:59:00Z"));
    await insertReservation(handle.db, october, 1_000);
    const settled = await generation(other.id);
    await insertReservation(handle.db, settled, 30);
    await closeReservation(handle.db, settled, {
      kind: "settle",
      chargedMicrousd: 25,
      gpuMs: 25,
      at: NOV,
    });
    const open = await generation(other.id);
    await insertReservation(handle.db, open, 12);

    const since = at("2026-11-01T00:00:00Z");
    expect(
      await readSpendSnapshot(handle.db, other.id, { since, openSince: at("2026-10-01") }),
    ).toEqual({
      spentMicrousd: 25 + 12,
      open: expect.arrayContaining([
        { generationId: october.id, reservedMicrousd: 1_000 },
        { generationId: open.id, reservedMicrousd: 12 },
      ]),
    });
    // Holds older than openSince are abandoned work; without open holds the sum still comes back.
    expect(
      await readSpendSnapshot(handle.db, other.id, { since, openSince: at("2026-11-20") }),
    ).toEqual({
      spentMicrousd: 37,
      open: [],
    });
    const empty = await createAccount(handle.db, { name: "empty", planId: "pro" });
    expect(await readSpendSnapshot(handle.db, empty.id, { since, openSince: since })).toEqual({
      spentMicrousd: 0,
      open: [],
    });
  });
});
