import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import type { Database } from "../client/types.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { createAccount } from "./accounts.ts";
import { acceptGenerationRow } from "./generation-accept.ts";
import { completeGeneration, findSucceededByContentHash } from "./generations.ts";

let a: PgliteHandle;
let b: PgliteHandle;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

describe("prepared hot statements", () => {
  it("run on the database the handle reaches now (the Worker's per-request proxy)", async () => {
    // Like edge/entry/worker.ts: one handle whose calls go to whichever database is current.
    let current: Database = a.db;
    const proxy = new Proxy({} as Database, {
      get(_target, prop) {
        const value: unknown = Reflect.get(current, prop, current);
        return typeof value === "function" ? value.bind(current) : value;
      },
    });
    const account = await createAccount(a.db, { name: "only in a", planId: "pro" });
    const contentHash = "h-prepared";
    const written = await acceptGenerationRow(
      proxy,
      {
        id: newId("generation"),
        accountId: account.id,
        model: "cppn-glove",
        modelVersion: "2026-11-27.1",
        prompt: "prepared",
        params: { width: 64, height: 64, seed: 1, priority: "standard" },
        contentHash,
      },
      { reserveMicrousd: 1 },
    );
    if (written.kind !== "created") throw new Error(`expected a new row, got ${written.kind}`);
    await completeGeneration(a.db, written.generation.id, {
      assetKey: `${"d".repeat(64)}.png`,
      contentType: "image/png",
      bytes: 1,
      width: 64,
      height: 64,
      outputSha256: "d".repeat(64),
      gpuMs: 1,
      costActualMicrousd: 1,
    });

    expect((await findSucceededByContentHash(proxy, contentHash))?.id).toBe(written.generation.id);
    current = b.db;
    expect(await findSucceededByContentHash(proxy, contentHash)).toBeNull();
    current = a.db;
    expect((await findSucceededByContentHash(proxy, contentHash))?.id).toBe(written.generation.id);
  });
});
