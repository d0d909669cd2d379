import type { Priority } from "../../contracts/api.ts";
import type { LaneDepths } from "./queue-backend.ts";

// How long a job waits before it starts: the jobs served before it plus those running now, times the
// measured service time per image (an EWMA over batches, so batching is already accounted for).
// On a queue shared by several nodes the jobs ahead are served by all of them at once.

/**
 * Wait of a job with `ahead` jobs served before it, while `inFlight` jobs run on this node and
 * `nodes` nodes (this one included) take from the queue.
 */
export const estimateWaitMs = (ahead: number, inFlight: number, msPerImage: number, nodes = 1) =>
  Math.round((ahead / Math.max(1, nodes) + inFlight) * msPerImage);

/**
 * Wait of a job arriving now in each lane, lanes served fast > standard > relax. Exact in relax
 * (every queued job goes first); in fast and standard, jobs of lower lanes that aging has promoted
 * past a newcomer are not counted, so those two are lower bounds while such old jobs wait.
 */
export function laneWaitsMs(
  depth: LaneDepths,
  inFlight: number,
  msPerImage: number,
  nodes = 1,
): Record<Priority, number> {
  return {
    fast: estimateWaitMs(depth.fast, inFlight, msPerImage, nodes),
    standard: estimateWaitMs(depth.fast + depth.standard, inFlight, msPerImage, nodes),
    relax: estimateWaitMs(depth.fast + depth.standard + depth.relax, inFlight, msPerImage, nodes),
  };
}
