import { Hono } from "hono";
import { Heartbeat, JobEvent } from "../../contracts/region-protocol.ts";
import { recordNodeHeartbeat } from "../../db/queries/generation-leases.ts";
import { recordRegionHeartbeat } from "../../db/queries/regions.ts";
import type { RegionStatus as StoredRegionStatus } from "../../db/schema/regions.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { invalidRequest, notFound } from "../errors/index.ts";
import { applyJobEvent } from "../generations/apply-job-event.ts";
import { applyHeldJobs } from "../generations/held-jobs.ts";
import { ApiError } from "../errors/index.ts";
import { regionSignature } from "../middleware/region-signature/index.ts";
import type { RegionHealth } from "../routing/region-directory.ts";
import { baseUrl } from "./base-url.ts";
import { generationDeps } from "./generation-deps.ts";

const STORED_STATUS: Record<RegionHealth, StoredRegionStatus> = {
  healthy: "healthy",
  draining: "draining",
  tripped: "degraded",
  stale: "down",
  unknown: "down",
};

// Heartbeats arrive every ~2 s per node; the tables only need them often enough for other
// isolates (which re-read them every few seconds) to see a region as alive, and for the lease
// sweep to see that a node holding jobs still is (heartbeatTtlMs is several times this).
const PERSIST_EVERY_MS = 5_000;

/**
 * Region -> edge: POST /internal/regions/:region/events and /heartbeat, HMAC-signed with a key of
 * the region the path names (regionSignature checks that), about that region's own work.
 */
export function internalRegionRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const signed = {
    keys: s.keyring.lookup,
    clock: s.clock,
    maxBytes: s.tuning.maxBodyBytes,
    // Shared by every isolate on Workers (a Durable Object per region): no replay anywhere.
    nonces: s.nonces,
  };
  const applyDeps = generationDeps(s);
  const persisted = new Map<string, { at: number; status: StoredRegionStatus }>();

  function knownRegion(param: string, claimed: string): string {
    if (claimed !== param) {
      throw invalidRequest(
        "region_mismatch",
        `body is for region '${claimed}', path for '${param}'`,
        "region",
      );
    }
    if (!s.directory.get(param)) throw notFound(`no such region: ${param}`, "region_not_found");
    return param;
  }

  app.post("/:region/events", regionSignature({ ...signed, schema: JobEvent }), async (c) => {
    const event = c.var.body;
    knownRegion(c.req.param("region"), event.region);
    const outcome = await applyJobEvent(event, baseUrl(c, s), applyDeps);
    // A new output's style was recorded: the index takes it after this answer.
    if (event.type === "succeeded" && outcome === "applied") s.waitUntil(s.styleSync.kick());
    if (outcome === "unknown") {
      throw notFound(`no generation for job ${event.job_id}`, "job_not_found");
    }
    if (outcome === "foreign") {
      throw new ApiError({
        type: "permission_error",
        code: "job_of_another_region",
        message: `job ${event.job_id} was not given to region ${event.region}`,
      });
    }
    return c.json({ ok: true, outcome });
  });

  app.post("/:region/heartbeat", regionSignature({ ...signed, schema: Heartbeat }), async (c) => {
    // The job list renews leases (below); routing and the regions table need only the rest.
    const { holds, ...heartbeat } = c.var.body;
    const region = knownRegion(c.req.param("region"), heartbeat.region);
    const now = s.clock();
    // Fresh as of when the node made it (`at`, inside the signed body), not when it arrived: a
    // heartbeat held back in transit (or by someone in the middle) does not make a silent region
    // look alive.
    const madeAt = Date.parse(heartbeat.at);
    s.directory.observeHeartbeat(heartbeat, Number.isNaN(madeAt) ? now : Math.min(now, madeAt));
    const status = STORED_STATUS[s.directory.health(region) ?? "unknown"];
    const node = { region, nodeId: heartbeat.node_id, at: new Date(now) };
    const last = persisted.get(`${region}/${heartbeat.node_id}`);
    if (!last || last.status !== status || now - last.at >= PERSIST_EVERY_MS) {
      persisted.set(`${region}/${heartbeat.node_id}`, { at: now, status });
      s.waitUntil(recordRegionHeartbeat(s.db, region, { heartbeat, status, at: node.at }));
      s.waitUntil(recordNodeHeartbeat(s.db, { ...node, scope: holds?.scope ?? null }));
    }
    if (holds) {
      const sentAt = Date.parse(heartbeat.at);
      const report = { region, nodeId: heartbeat.node_id, holds, sentAt, receivedAt: now };
      s.waitUntil(applyHeldJobs(report, baseUrl(c, s), applyDeps));
    }
    return c.json({ ok: true, status });
  });

  return app;
}
