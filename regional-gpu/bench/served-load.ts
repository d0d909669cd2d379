import type { Priority } from "../../contracts/api.ts";
import { REGION_PATHS, type RegionJob } from "../../contracts/region-protocol.ts";
import { signRequest } from "../../contracts/signing.ts";
import { testKey } from "../testing/signed-client.ts";
import type { CallbackReceiver } from "./callback-receiver.ts";
import { processCpuMs, summarise, type Summary } from "./stats.ts";

// The served path under load: N clients, each submitting a signed job to the node's intake and
// waiting for its terminal event at the callback receiver before submitting the next (a closed
// loop, so N is the concurrency). After a warm-up, completions in a fixed window give images/s;
// jobs submitted in the window give latency (submit -> terminal event received).

export interface ServedLoadOptions {
  regionUrl: string;
  region: string;
  secret: string;
  receiver: CallbackReceiver;
  model: { name: string; version: string };
  clients: number;
  side: number;
  prompt: string;
  warmupMs: number;
  durationMs: number;
  priority?: Priority;
}

export interface ServedLoadResult {
  clients: number;
  images: number;
  seconds: number;
  imagesPerS: number;
  latencyMs: Summary;
  /** From the succeeded events of the measured jobs. */
  stagesMs: {
    queue: Summary;
    inference: Summary;
    encode: Summary;
    upload: Summary;
    moderation: Summary | null;
  };
  batchSize: Summary;
  failures: number;
  /** CPU time of this process (node, clients, receiver) in the window per image completed in it. */
  cpuMsPerImage: number;
}

interface Measured {
  latencyMs: number;
  timings:
    | Extract<
        Awaited<ReturnType<CallbackReceiver["wait"]>>["event"],
        { type: "succeeded" }
      >["timings"]
    | null;
}

let sequence = 0;

export async function servedLoad(opts: ServedLoadOptions): Promise<ServedLoadResult> {
  const callbackUrl = `${opts.receiver.url}${REGION_PATHS.events(opts.region)}`;
  const started = performance.now();
  const windowStart = started + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  const measured: Measured[] = [];
  let completedInWindow = 0;
  let failures = 0;

  const submit = async (job: RegionJob) => {
    const body = JSON.stringify(job);
    const headers = await signRequest(testKey(opts.secret), {
      method: "POST",
      path: REGION_PATHS.jobs,
      body,
    });
    const res = await fetch(`${opts.regionUrl}${REGION_PATHS.jobs}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "x-request-id": job.request_id },
      body,
    });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${text}`);
  };

  let windowCpu = { start: 0, end: 0 };
  const cpuMarks = [
    setTimeout(() => (windowCpu.start = processCpuMs()), opts.warmupMs),
    setTimeout(() => (windowCpu.end = processCpuMs()), opts.warmupMs + opts.durationMs),
  ];
  const client = async (index: number) => {
    while (performance.now() < windowEnd) {
      const n = sequence++;
      const job: RegionJob = {
        job_id: `gen_bench${index}x${n}`,
        request_id: `req_bench${index}x${n}`,
        account_id: "acct_bench",
        project_id: null,
        model: opts.model.name,
        model_version: opts.model.version,
        prompt: opts.prompt,
        negative_prompt: null,
        width: opts.side,
        height: opts.side,
        seed: n,
        priority: opts.priority ?? "standard",
        callback_url: callbackUrl,
        submitted_at: new Date().toISOString(),
      };
      const submittedAt = performance.now();
      const done = opts.receiver.wait(job.job_id);
      await submit(job);
      const { event, at } = await done;
      if (event.type !== "succeeded") failures++;
      if (at >= windowStart && at <= windowEnd) completedInWindow++;
      if (submittedAt >= windowStart && submittedAt < windowEnd) {
        measured.push({
          latencyMs: at - submittedAt,
          timings: event.type === "succeeded" ? event.timings : null,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, i) => client(i)));
  for (const mark of cpuMarks) clearTimeout(mark);
  if (windowCpu.end === 0) windowCpu = { ...windowCpu, end: processCpuMs() };

  const timings = measured.flatMap((m) => (m.timings ? [m.timings] : []));
  const moderation = timings.flatMap((t) =>
    t.moderation_ms === undefined ? [] : [t.moderation_ms],
  );
  return {
    clients: opts.clients,
    images: completedInWindow,
    seconds: opts.durationMs / 1000,
    imagesPerS: completedInWindow / (opts.durationMs / 1000),
    latencyMs: summarise(measured.map((m) => m.latencyMs)),
    stagesMs: {
      queue: summarise(timings.map((t) => t.queue_ms)),
      inference: summarise(timings.map((t) => t.inference_ms)),
      encode: summarise(timings.map((t) => t.encode_ms)),
      upload: summarise(timings.map((t) => t.upload_ms)),
      moderation: moderation.length > 0 ? summarise(moderation) : null,
    },
    batchSize: summarise(timings.map((t) => t.batch_size)),
    failures,
    cpuMsPerImage: (windowCpu.end - windowCpu.start) / Math.max(1, completedInWindow),
  };
}
