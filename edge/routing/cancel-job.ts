import {
  JobCancelAnswer,
  REGION_PATHS,
  type JobCancelReason,
} from "../../contracts/region-protocol.ts";
import { describeError } from "../lib/describe-error.ts";
import type { DispatchDeps } from "./dispatch.ts";
import { callRegion } from "./region-client.ts";

/**
 * Asks a region to drop a job so no GPU time is spent on it: the client canceled the generation,
 * its lease expired and it runs elsewhere now, or another attempt finished first. Best effort,
 * within the dispatch timeout; never throws. A job the region had already started runs to the end
 * with its output discarded; an unreachable region may still run it and send events, which the
 * edge ignores (or, for an earlier attempt's result, takes as the outcome if none came first).
 */
export async function cancelRegionJob(
  regionName: string,
  jobId: string,
  { requestId, reason }: { requestId: string; reason: JobCancelReason },
  deps: DispatchDeps,
): Promise<void> {
  const region = deps.directory.get(regionName);
  if (!region) return;
  const entry = { region: regionName, job_id: jobId, request_id: requestId, reason };
  try {
    const res = await callRegion(
      region,
      {
        method: "POST",
        path: REGION_PATHS.jobCancel(jobId),
        body: JSON.stringify({ reason }),
        requestId,
        timeoutMs: deps.timeoutMs,
      },
      deps,
    );
    const answer = JobCancelAnswer.safeParse(await res.json().catch(() => null));
    if (res.ok && answer.success) {
      const { state } = answer.data;
      deps.log({
        level: "info",
        msg: state === "canceled" ? "region dropped job" : `region could not drop job: ${state}`,
        state,
        ...entry,
      });
    } else {
      // 404: the region lost the job (a restart of an in-process queue): nothing will run.
      const level = res.status === 404 ? "info" : "warn";
      deps.log({ level, msg: "region did not cancel job", status: res.status, ...entry });
    }
  } catch (err) {
    deps.log({
      level: "warn",
      msg: "region unreachable for cancel",
      error: describeError(err),
      ...entry,
    });
  }
}
