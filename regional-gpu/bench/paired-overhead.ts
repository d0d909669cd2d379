import { REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testKey } from "../testing/signed-client.ts";
import { encodePng } from "../output/png.ts";
import type { Pipeline } from "../pipelines/pipeline.ts";
import type { CallbackReceiver } from "./callback-receiver.ts";
import { processCpuMs, summarise, type Summary } from "./stats.ts";

// What the node adds to one image's latency, measured in pairs: a raw iteration (pipeline run + PNG
// encode) and then the same request through the idle node (signed intake -> queue -> executor ->
// encode -> store -> event), back to back, many times. On a shared machine whose speed drifts from
// second to second, the median of paired differences is far steadier than a difference of medians.

export interface PairedOverheadOptions {
  pipeline: Pipeline;
  regionUrl: string;
  region: string;
  secret: string;
  receiver: CallbackReceiver;
  model: { name: string; version: string };
  side: number;
  prompt: string;
  durationMs: number;
  /** Measured pairs to take however long they last (default 5). */
  minPairs?: number;
}

export interface PairedOverheadResult {
  pairs: number;
  rawMs: Summary;
  servedMs: Summary;
  /** served - raw, per pair. */
  overheadMs: Summary;
  /** served - raw - the store write, per pair: the node's own cost besides storage. */
  overheadWithoutStoreMs: Summary;
  /** The store write (head + put) of the served image, per pair. */
  storeMs: Summary;
  /**
   * CPU time of this process (all threads) per pair, served - raw: what the node adds in work,
   * which other processes' load on the machine does not change (client and receiver included).
   */
  overheadCpuMs: Summary;
  rawCpuMs: Summary;
}

export async function pairedOverhead(opts: PairedOverheadOptions): Promise<PairedOverheadResult> {
  const callbackUrl = `${opts.receiver.url}${REGION_PATHS.events(opts.region)}`;
  const raw: number[] = [];
  const served: number[] = [];
  const store: number[] = [];
  const rawCpu: number[] = [];
  const servedCpu: number[] = [];
  const started = performance.now();
  const minPairs = opts.minPairs ?? 5;
  // Pair 0 warms up and is not counted.
  for (let i = 0; i <= minPairs || performance.now() - started < opts.durationMs; i++) {
    // Distinct seeds: every image is new to the store, as in production.
    const request = {
      prompt: opts.prompt,
      seed: 1_000_000 + 2 * i,
      width: opts.side,
      height: opts.side,
    };
    const c0 = processCpuMs();
    const t0 = performance.now();
    const images = await opts.pipeline.run([request]);
    await encodePng(images[0]!);
    const rawMs = performance.now() - t0;
    const c1 = processCpuMs();

    const job: RegionJob = {
      job_id: `gen_pair${i}`,
      request_id: `req_pair${i}`,
      account_id: "acct_bench",
      project_id: null,
      model: opts.model.name,
      model_version: opts.model.version,
      prompt: opts.prompt,
      negative_prompt: null,
      width: opts.side,
      height: opts.side,
      seed: request.seed + 1,
      priority: "fast",
      callback_url: callbackUrl,
      submitted_at: new Date().toISOString(),
    };
    const body = JSON.stringify(job);
    const t1 = performance.now();
    const done = opts.receiver.wait(job.job_id);
    const headers = await signRequest(testKey(opts.secret), {
      method: "POST",
      path: REGION_PATHS.jobs,
      body,
    });
    const res = await fetch(`${opts.regionUrl}${REGION_PATHS.jobs}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
    });
    if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    const { event, at } = await done;
    const c2 = processCpuMs();
    if (event.type !== "succeeded") throw new Error(`job ${job.job_id} ended ${event.type}`);
    if (i === 0) continue; // warm-up pair
    raw.push(rawMs);
    served.push(at - t1);
    store.push(event.timings.upload_ms);
    rawCpu.push(c1 - c0);
    servedCpu.push(c2 - c1);
  }
  const overhead = served.map((s, i) => s - raw[i]!);
  return {
    pairs: raw.length,
    rawMs: summarise(raw),
    servedMs: summarise(served),
    overheadMs: summarise(overhead),
    overheadWithoutStoreMs: summarise(overhead.map((o, i) => o - store[i]!)),
    storeMs: summarise(store),
    overheadCpuMs: summarise(servedCpu.map((c, i) => c - rawCpu[i]!)),
    rawCpuMs: summarise(rawCpu),
  };
}
