import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINUTE_MS, type Arrival } from "./arrivals.ts";
import { loadAzureTrace } from "./azure-trace.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "azure-trace-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const all = (source: { nextMinute(): Arrival[] | null }) => {
  const out: Arrival[] = [];
  for (let m = source.nextMinute(); m; m = source.nextMinute()) out.push(...m);
  return out;
};

describe("Azure Functions 2021 trace replay", () => {
  it("arrives at end_timestamp - duration, in order, from the first invocation on", async () => {
    const path = join(dir, "t.csv");
    await writeFile(
      path,
      [
        "app,func,end_timestamp,duration",
        "a1,f1,10.5,0.5",
        "a2,f2,3.0,1.0",
        "a1,f1,70.0,4.0",
        "bad,row",
        "a3,f3,x,1",
      ].join("\n"),
    );
    const trace = await loadAzureTrace({ path });
    expect(trace.invocations).toBe(3);
    expect(trace.skipped).toBe(2);
    const arrivals = all(trace);
    expect(arrivals.map((a) => a.at)).toEqual([0, 8_000, 64_000]);
    // One app, one place; one function, one lane and size.
    expect(arrivals[0]!.metro).not.toBeUndefined();
    const f1 = arrivals.filter((_, i) => i !== 0);
    expect(f1[0]).toMatchObject({ metro: f1[1]!.metro, lane: f1[1]!.lane, shape: f1[1]!.shape });
  });

  it("reads the real file's gzip form, replays faster on request and refuses other formats", async () => {
    const rows = ["app,func,end_timestamp,duration"];
    for (let i = 0; i < 600; i++) rows.push(`app${i % 7},f${i % 3},${i + 1},1`);
    const path = join(dir, "t.csv.gz");
    await writeFile(path, gzipSync(rows.join("\n")));
    const trace = await loadAzureTrace({ path, speedup: 2, windowMs: 2 * MINUTE_MS });
    const arrivals = all(trace);
    expect(arrivals).toHaveLength(240);
    expect(arrivals[arrivals.length - 1]!.at).toBe(119_500);
    await writeFile(join(dir, "wrong.csv"), "HashOwner,HashApp,Count\n1,2,3\n");
    await expect(loadAzureTrace({ path: join(dir, "wrong.csv") })).rejects.toThrow(
      /header must name app,func,end_timestamp,duration/,
    );
  });

  it("loads the committed sample: an hour of bursty invocations near 1M/day", async () => {
    const trace = await loadAzureTrace({
      path: new URL("../data/azure-functions-2021-sample.csv", import.meta.url).pathname,
    });
    expect(trace.skipped).toBe(0);
    expect(trace.spanMs).toBeGreaterThan(59 * MINUTE_MS);
    const perDay = (trace.invocations / trace.spanMs) * 86_400_000;
    expect(perDay).toBeGreaterThan(800_000);
    expect(perDay).toBeLessThan(1_300_000);
  });
});
