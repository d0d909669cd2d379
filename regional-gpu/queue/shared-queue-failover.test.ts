import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../contracts/ids.ts";
import { REGION_PATHS, type JobEvent, type RegionJob } from "../../contracts/region-protocol.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { startEdgeStub, type EdgeStub } from "../testing/edge-stub.ts";
import { launchNode, type NodeProcess } from "../testing/node-process.ts";
import {
  REDIS_MISSING,
  redisServerInstalled,
  startRedisServer,
  type RedisServer,
} from "../testing/redis-server.ts";
import { referenceModel, type TestModel } from "../testing/reference-model.ts";
import { signedFetch } from "../testing/signed-client.ts";

// Fault test of the shared queue: two regional nodes (child processes of regional-gpu/main.ts) share
// one real redis-server; under load one is killed with SIGKILL mid-run. Every accepted job must
// succeed exactly once at the stub edge (one `succeeded` event per job, no `failed`), with its image
// in the region's object store.

const SECRET = "failover-test-signing-secret-0123456789";
const REGION = "eu-west";
const JOBS = 40;
const installed = redisServerInstalled();
if (!installed) console.warn(`shared-queue-failover.test.ts: ${REDIS_MISSING}`);

let redis: RedisServer;
let edge: EdgeStub;
let model: TestModel;
let dir: string;
const nodes: NodeProcess[] = [];

describe.skipIf(!installed)("shared queue: kill -9 one of two nodes under load", () => {
  beforeAll(async () => {
    [redis, edge, model] = await Promise.all([
      startRedisServer(),
      startEdgeStub(SECRET),
      referenceModel(),
    ]);
    dir = await mkdtemp(join(tmpdir(), "failover-"));
  });
  afterAll(async () => {
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.exited));
    await edge?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs every accepted job exactly once", { timeout: 150_000 }, async () => {
    const objects = join(dir, "objects");
    const env = (nodeId: string) => ({
      REGION_NAME: REGION,
      REGION_SIGNING_KEY: `test:${SECRET}`,
      EDGE_URL: edge.url,
      NODE_ID: nodeId,
      PORT: "0",
      OPS_PORT: "0",
      MODEL_DIR: model.modelsDir,
      WARM_MODELS: model.ref,
      OBJECT_STORE: `file://${objects}`,
      ORT_EP: "cpu",
      REDIS_URL: redis.url,
      // A dead node's jobs come back within about 4 s (lock 3 s, checked every second). A node
      // starved of CPU (tests in parallel on two cores) may miss a renewal: a job that comes back
      // for that is run again, not failed, and still has one outcome.
      QUEUE_LOCK_MS: "3000",
      QUEUE_STALLED_INTERVAL_MS: "1000",
      QUEUE_MAX_STALLED: "5",
      MAX_BATCH: "4",
      MAX_BATCH_DELAY_MS: "5",
      EVENT_RETRY_BASE_MS: "20",
      LOG_LEVEL: "info",
    });
    const victim = launchNode(env("node-victim"));
    const survivor = launchNode(env("node-survivor"));
    nodes.push(victim, survivor);
    const [victimUrl, survivorUrl] = (
      await Promise.all([victim.line("region node ready"), survivor.line("region node ready")])
    ).map((l) => String(l.url));

    const jobs = Array.from({ length: JOBS }, (_, i): RegionJob => ({
      job_id: newId("generation"),
      request_id: newId("request"),
      account_id: "acct_failover",
      project_id: null,
      model: model.manifest.name,
      model_version: model.manifest.version,
      prompt: `a lighthouse in a storm, study ${i}`,
      negative_prompt: null,
      width: 64,
      height: 64,
      seed: 1_000 + i,
      priority: (["fast", "standard", "relax"] as const)[i % 3]!,
      callback_url: `${edge.url}${REGION_PATHS.events(REGION)}`,
      submitted_at: new Date().toISOString(),
    }));
    // Half the jobs through each node, all into the region's one queue.
    const answers = await Promise.all(
      jobs.map((job, i) =>
        signedFetch(i % 2 === 0 ? victimUrl! : survivorUrl!, SECRET, REGION_PATHS.jobs, {
          body: JSON.stringify(job),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(jobs.map(() => 202));

    const succeeded = () => edge.events().filter((e) => e.type === "succeeded");
    // Mid-run, as the edge sees it: a fifth of the jobs are done.
    await edge.waitFor(() => succeeded().length >= JOBS / 5, 60_000);
    victim.child.kill("SIGKILL");
    expect(await victim.exited).toBeNull();
    const doneAtKill = new Set(succeeded().map((e) => e.job_id)).size;

    await edge.waitFor(() => new Set(succeeded().map((e) => e.job_id)).size === JOBS, 60_000);
    // Let anything that would repeat an outcome (a late redelivery) arrive before counting.
    await new Promise((r) => setTimeout(r, 1_000));

    expect(doneAtKill).toBeLessThan(JOBS);
    expect(edge.events().filter((e) => e.type === "failed")).toEqual([]);
    // The survivor took over the jobs the victim held when it died.
    expect(survivor.count("job lock expired; back on the shared queue")).toBeGreaterThan(0);

    const byJob = new Map<string, JobEvent[]>();
    for (const e of succeeded()) byJob.set(e.job_id, [...(byJob.get(e.job_id) ?? []), e]);
    expect([...byJob.keys()].sort()).toEqual(jobs.map((j) => j.job_id).sort());
    // One outcome per job: every succeeded event of a job is the same recorded event (same output,
    // timings, timestamp), never a second run's result.
    for (const events of byJob.values()) for (const e of events) expect(e).toEqual(events[0]);
    // Sent once, except an outcome the victim recorded and may have sent just before it died: the
    // survivor sends that same event again, since nothing tells it whether the edge had it (the edge
    // ignores the repeat). Any other repeat is a failure.
    const resent = new Set(
      survivor.lines
        .filter((l) => l.msg === "job already has an outcome; not run again")
        .filter((l) => l.outcome === "recorded")
        .map((l) => l.job_id),
    );
    for (const [jobId, events] of byJob) {
      expect(events.length, jobId).toBe(resent.has(jobId) ? events.length : 1);
      expect(events.length, jobId).toBeLessThanOrEqual(2);
    }

    const store = new FsObjectStore(objects);
    for (const event of edge.events()) {
      if (event.type !== "succeeded") continue;
      const stored = await store.get(event.output.key);
      expect(stored, event.output.key).not.toBeNull();
      expect(createHash("sha256").update(stored!.body).digest("hex")).toBe(event.output.sha256);
    }

    survivor.child.kill("SIGTERM");
    expect(await survivor.exited).toBe(0);
  });
});
