import type { Priority } from "../../contracts/api.ts";
import type { LaneDepths } from "./queue-backend.ts";

// How long a job waits before it starts: the jobs served before it plus those running now, times the
// measured service time per image (an EWMA over batches, so batching is already accounted for).

/** Wait of a job with `ahead` jobs served before it, while `inFlight` jobs are running. */
export const estimateWaitMs = (ahead: number, inFlight: number, msPerImage: number) =>
  Math.round((ahead + inFlight) * msPerImage);

/**
 * Wait of a job arriving now in each lane, lanes served fast > standard > relax. Exact in relax
 * (every queued job goes first); in fast and standard, jobs of lower lanes that aging has promoted
 * past a newcomer are not counted, so those two are lower bounds while such old jobs wait.
 */
export function laneWaitsMs(
  depth: LaneDepths,
  inFlight: number,
  msPerImage: number,
): Record<Priority, number> {
  return {
    fast: estimateWaitMs(depth.fast, inFlight, msPerImage),
    standard: estimateWaitMs(depth.fast + depth.standard, inFlight, msPerImage),
    relax: estimateWaitMs(depth.fast + depth.standard + depth.relax, inFlight, msPerImage),
  };
}
