import type { Priority } from "../../contracts/api.ts";
import {
  JobAccepted,
  REGION_PATHS,
  RegionJob,
  type RegionConfig,
} from "../../contracts/region-protocol.ts";
import { callRegion, retryAfterSeconds, type RegionClientDeps } from "./region-client.ts";
import type { RegionDirectory } from "./region-directory.ts";
import type { Log } from "../lib/log.ts";

export interface DispatchDeps extends RegionClientDeps {
  directory: RegionDirectory;
  /** Per region: connect + answer. */
  timeoutMs: number;
  log: Log;
}

/** A job as built by the edge; `callback_url` is added per region. */
export type JobDraft = Omit<RegionJob, "callback_url">;

export type AttemptOutcome = "accepted" | "busy" | "unreachable" | "rejected";

export interface DispatchAttempt {
  region: string;
  outcome: AttemptOutcome;
  status?: number;
  detail?: string;
  /** Time to the region's HTTP answer (a round trip plus its intake), when one came. */
  elapsedMs?: number;
}

export type DispatchResult =
  | { kind: "accepted"; region: RegionConfig; accepted: JobAccepted; attempts: DispatchAttempt[] }
  /** Every candidate was busy or unreachable: the client may retry after `retryAfterS`. */
  | { kind: "exhausted"; retryAfterS: number; attempts: DispatchAttempt[] }
  /** A region refused the job for a reason retrying elsewhere would not fix (a 4xx, a 500). */
  | {
      kind: "rejected";
      region: RegionConfig;
      status: number;
      detail: string;
      attempts: DispatchAttempt[];
    };

/**
 * What one attempt's outcome does to the directory: an acceptance clears the region's failure count
 * and counts the job against its queue until a heartbeat shows it; an unreachable region or a 5xx
 * counts toward its breaker; push-back (429/503) is the region working as designed and leaves the
 * breaker alone. Answers whether the job may be offered to the next candidate.
 */
export function noteAttempt(
  directory: RegionDirectory,
  region: string,
  lane: Priority,
  outcome: AttemptOutcome,
  status?: number,
): boolean {
  switch (outcome) {
    case "accepted":
      directory.recordSuccess(region);
      directory.recordAccepted(region, lane);
      return false;
    case "unreachable":
      directory.recordFailure(region);
      return true;
    case "busy":
      return true;
    case "rejected":
      if (status !== undefined && status >= 500) directory.recordFailure(region);
      return false;
  }
}

// Used when every region was unreachable and none said when to come back.
const DEFAULT_RETRY_AFTER_S = 5;
const DETAIL_CHARS = 300;

/**
 * Offers the job to `candidates` in order. A connect error, a timeout, 429 or 503 moves on to the
 * next region; nothing else is treated as retryable. Outcomes feed the directory's breaker.
 */
export async function dispatchJob(
  draft: JobDraft,
  candidates: readonly RegionConfig[],
  callbackUrl: (region: RegionConfig) => string,
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const attempts: DispatchAttempt[] = [];
  const retryAfters: number[] = [];
  for (const region of candidates) {
    const body = JSON.stringify(RegionJob.parse({ ...draft, callback_url: callbackUrl(region) }));
    let res: Response;
    const sentAt = performance.now();
    try {
      res = await callRegion(
        region,
        {
          method: "POST",
          path: REGION_PATHS.jobs,
          body,
          requestId: draft.request_id,
          timeoutMs: deps.timeoutMs,
        },
        deps,
      );
    } catch (err) {
      noteAttempt(deps.directory, region.name, draft.priority, "unreachable");
      const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      attempts.push({ region: region.name, outcome: "unreachable", detail });
      deps.log({
        level: "warn",
        msg: "region unreachable",
        region: region.name,
        request_id: draft.request_id,
        job_id: draft.job_id,
        detail,
      });
      continue;
    }
    const elapsedMs = performance.now() - sentAt;
    if (res.ok) {
      noteAttempt(deps.directory, region.name, draft.priority, "accepted");
      const accepted = JobAccepted.safeParse(await res.json().catch(() => null));
      attempts.push({ region: region.name, outcome: "accepted", status: res.status, elapsedMs });
      // The region took the job even if its answer is odd; keep it rather than run the job twice.
      const answer = accepted.success
        ? accepted.data
        : { job_id: draft.job_id, region: region.name, queue_position: 0, estimated_wait_ms: 0 };
      return { kind: "accepted", region, accepted: answer, attempts };
    }
    const detail = (await res.text().catch(() => "")).slice(0, DETAIL_CHARS);
    if (res.status === 429 || res.status === 503) {
      // Push-back is the region working as designed, not a fault: the breaker is left alone.
      const after = retryAfterSeconds(res.headers.get("retry-after"), deps.clock());
      if (after !== null) retryAfters.push(after);
      attempts.push({
        region: region.name,
        outcome: "busy",
        status: res.status,
        detail,
        elapsedMs,
      });
      deps.log({
        level: "info",
        msg: "region busy",
        region: region.name,
        status: res.status,
        request_id: draft.request_id,
        job_id: draft.job_id,
      });
      continue;
    }
    noteAttempt(deps.directory, region.name, draft.priority, "rejected", res.status);
    attempts.push({
      region: region.name,
      outcome: "rejected",
      status: res.status,
      detail,
      elapsedMs,
    });
    deps.log({
      level: "error",
      msg: "region rejected job",
      region: region.name,
      status: res.status,
      detail,
      request_id: draft.request_id,
      job_id: draft.job_id,
    });
    return { kind: "rejected", region, status: res.status, detail, attempts };
  }
  const retryAfterS =
    retryAfters.length > 0 ? Math.max(1, Math.min(...retryAfters)) : DEFAULT_RETRY_AFTER_S;
  return { kind: "exhausted", retryAfterS, attempts };
}
