import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Generation, GenerationList, TERMINAL_STATUSES } from "../../contracts/api.ts";
import { removeDataDir, startLocalStack, type RunningStack } from "./local-stack.ts";

// No generation is ever stuck: the real `npm start` stack loses a region process to `kill -9`, and
// then the whole stack to Ctrl-C, with work in flight. Every generation ends, nothing is charged
// for work that did not finish, and the same key submits again at once.

const DUBLIN = { "x-client-lat": "53.35", "x-client-lon": "-6.26" };
const stacks: RunningStack[] = [];

afterAll(async () => {
  for (const stack of stacks) {
    await stack.stop();
    await removeDataDir(stack.dataDir);
  }
}, 60_000);

async function newKey(stack: RunningStack, plan: string): Promise<string> {
  const created = await stack.admin([
    "create-account",
    "--name",
    `E2E ${plan}`,
    "--plan",
    plan,
    "--json",
  ]);
  expect(created.code, created.stderr).toBe(0);
  return (JSON.parse(created.stdout) as { key: string }).key;
}

function submit(stack: RunningStack, key: string, body: object) {
  return fetch(`${stack.edgeUrl}/v1/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...DUBLIN },
    body: JSON.stringify(body),
  });
}

async function read(stack: RunningStack, key: string, id: string): Promise<Generation> {
  const res = await fetch(`${stack.edgeUrl}/v1/generations/${id}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(200);
  return Generation.parse(await res.json());
}

/** Polls until every generation is terminal; throws after `timeoutMs`. */
async function untilEnded(stack: RunningStack, key: string, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(ids.map((id) => read(stack, key, id)));
    if (all.every((g) => TERMINAL_STATUSES.has(g.status))) return all;
    if (Date.now() > deadline) {
      const left = all.filter((g) => !TERMINAL_STATUSES.has(g.status));
      throw new Error(
        `${left.length} still in flight: ${JSON.stringify(left.map((g) => [g.id, g.status, g.region]))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe("the local stack losing a region to kill -9", () => {
  it("finishes every job the dead region held on the other regions", async () => {
    const stack = await startLocalStack();
    stacks.push(stack);
    const key = await newKey(stack, "enterprise");
    const ids = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const res = await submit(stack, key, {
          prompt: "a quiet harbour at dawn",
          seed: i + 1,
          width: 512,
          height: 512,
        });
        expect(res.status).toBe(202);
        return Generation.parse(await res.json()).id;
      }),
    );
    // The region holding the most unfinished work dies without a word.
    const before = await Promise.all(ids.map((id) => read(stack, key, id)));
    const inFlight = new Map<string, Generation[]>();
    for (const g of before) {
      if (TERMINAL_STATUSES.has(g.status) || g.region === null) continue;
      inFlight.set(g.region, [...(inFlight.get(g.region) ?? []), g]);
    }
    const [victim, held] = [...inFlight.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const stackFile = JSON.parse(await readFile(join(stack.dataDir, "stack.json"), "utf8")) as {
      regions: { name: string; pid: number }[];
    };
    const pid = stackFile.regions.find((r) => r.name === victim)!.pid;
    const killedAt = Date.now();
    process.kill(pid, "SIGKILL");

    const after = await untilEnded(stack, key, ids, 90_000);
    const recoveredMs = Date.now() - killedAt;
    expect(after.map((g) => g.status)).toEqual(ids.map(() => "succeeded"));
    const moved = after.filter((g) =>
      g.attempts.some((a) => a.region === victim && a.reason !== null),
    );
    for (const g of moved) {
      expect(g.region, JSON.stringify(g.attempts)).not.toBe(victim);
      expect(g.attempts.at(-1)).toMatchObject({ reason: null });
      expect(g.attempts.find((a) => a.region === victim)?.reason).toBe("region_down");
    }
    console.log(
      `kill -9 ${victim}: ${held.length} of 60 in flight there (${held.filter((g) => g.status === "running").length} running); ` +
        `${moved.length} redispatched; all 60 succeeded ${(recoveredMs / 1000).toFixed(1)} s after the kill`,
    );
    expect(moved.length).toBeGreaterThan(0);
    // GET /v1/regions counts them (from the regions table, read at most 5 s ago).
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const regions = (await (
      await fetch(`${stack.edgeUrl}/v1/regions`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { data: { name: string; status: string; redispatches: number }[] };
    const dead = regions.data.find((r) => r.name === victim)!;
    expect(dead).toMatchObject({ status: "down" });
    expect(dead.redispatches).toBeGreaterThanOrEqual(moved.length);
  }, 240_000);
});

describe("the whole local stack stopped with Ctrl-C and started again", () => {
  it("ends every generation in flight, and the same key submits again at once", async () => {
    const first = await startLocalStack();
    stacks.push(first);
    const key = await newKey(first, "pro"); // 8 at once
    const ids: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const res = await submit(first, key, {
        prompt: "a quiet harbour at dawn",
        seed,
        width: 1024,
        height: 1024,
      });
      expect(res.status).toBe(202);
      ids.push(Generation.parse(await res.json()).id);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await first.stop()).toBe(0);
    // Every region drained (none aborted mid-run on a second signal).
    expect(first.output()).not.toMatch(/terminate called|Napi::Error|drain failed/);
    stacks.splice(stacks.indexOf(first), 1);

    const second = await startLocalStack({}, first.dataDir);
    stacks.push(second);
    // At once: the slots held are the generations still in flight, not the 8 of before.
    const list = GenerationList.parse(
      await (
        await fetch(`${second.edgeUrl}/v1/generations?limit=100`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json(),
    );
    const stillInFlight = list.data.filter((g) => !TERMINAL_STATUSES.has(g.status)).length;
    const now = await submit(second, key, {
      prompt: "a quiet harbour at dawn",
      seed: 100,
      width: 256,
      height: 256,
    });
    console.log(
      `after Ctrl-C: ${stillInFlight} of 8 still in flight at restart; a new submit got ${now.status}`,
    );
    expect(now.status).toBe(stillInFlight < 8 ? 202 : 429);
    const extra = now.status === 202 ? [Generation.parse(await now.json()).id] : [];

    const ended = await untilEnded(second, key, [...ids, ...extra], 120_000);
    for (const g of ended) {
      // Finished after a redispatch, or failed and refunded: never charged for nothing.
      if (g.status === "succeeded") expect(g.cost.actual_usd).toBeGreaterThan(0);
      else expect(g.cost.actual_usd ?? 0).toBe(0);
    }
    // Every slot is free again: 8 at once.
    for (let seed = 200; seed < 208; seed++) {
      const res = await submit(second, key, {
        prompt: "a quiet harbour at dawn",
        seed,
        width: 256,
        height: 256,
      });
      expect(res.status).toBe(202);
    }
  }, 300_000);
});
