import { describe, expect, it } from "vitest";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { GenerationNotifier } from "./generation-notifier.ts";
import { IDEMPOTENCY_KEY_TTL_MS, ReplayCache } from "./replay-cache.ts";

const T0 = Date.parse("2026-12-07T12:00:00Z");
const row = (id: string, key: string | null, at = T0) =>
  ({
    id,
    accountId: "acct_1",
    idempotencyKey: key,
    requestHash: key === null ? null : `hash-${key}`,
    createdAt: new Date(at),
    status: "queued",
  }) as GenerationRow;

function cache(maxEntries?: number) {
  let now = T0;
  const notifier = new GenerationNotifier();
  const replays = new ReplayCache({ clock: () => now, rowTtlMs: 5_000, notifier, maxEntries });
  return { replays, notifier, advance: (ms: number) => (now += ms) };
}

describe("ReplayCache", () => {
  it("answers a key it remembered with the row while fresh, then with the id alone", () => {
    const { replays, advance } = cache();
    replays.remember(row("gen_a", "k1"));
    expect(replays.get("acct_1", "k1")).toMatchObject({
      generationId: "gen_a",
      requestHash: "hash-k1",
      row: { id: "gen_a" },
    });
    expect(replays.get("acct_2", "k1")).toBeNull();
    advance(5_001);
    expect(replays.get("acct_1", "k1")).toMatchObject({ generationId: "gen_a", row: null });
  });

  it("drops its copy of the row at any change applied in this isolate", () => {
    const { replays, notifier } = cache();
    replays.remember(row("gen_a", "k1"));
    notifier.notify("gen_b");
    expect(replays.get("acct_1", "k1")?.row).not.toBeNull();
    notifier.notify("gen_a");
    expect(replays.get("acct_1", "k1")).toMatchObject({ generationId: "gen_a", row: null });
  });

  it("forgets a key when its 24 hours are over, and on request", () => {
    const { replays, advance } = cache();
    replays.remember(row("gen_a", "k1"));
    replays.remember(row("gen_b", "k2"));
    advance(IDEMPOTENCY_KEY_TTL_MS);
    expect(replays.get("acct_1", "k1")).toBeNull();
    replays.remember(row("gen_c", "k3", T0 + IDEMPOTENCY_KEY_TTL_MS));
    replays.forget("acct_1", "k3");
    expect(replays.get("acct_1", "k3")).toBeNull();
  });

  it("keeps nothing without a key, and at most maxEntries keys", () => {
    const { replays } = cache(2);
    replays.remember(row("gen_x", null));
    for (const k of ["k1", "k2", "k3"]) replays.remember(row(`gen_${k}`, k));
    expect(replays.get("acct_1", "k1")).toBeNull();
    expect(replays.get("acct_1", "k3")?.generationId).toBe("gen_k3");
  });
});
