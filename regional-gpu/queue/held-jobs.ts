import { MAX_HELD_JOBS, type HeldJobs } from "../../contracts/region-protocol.ts";

/**
 * What a heartbeat renews: the queue's jobs and those whose events are still on their way to the
 * edge (a job leaves the queue when it finishes, but the edge has not heard its outcome until the
 * event is delivered). At most `max` ids; past it the list says it is incomplete.
 */
export function heldJobsOf(
  queue: HeldJobs,
  undelivered: Iterable<string>,
  max: number = MAX_HELD_JOBS,
): HeldJobs {
  const ids = new Set(queue.jobs);
  for (const id of undelivered) ids.add(id);
  const jobs = [...ids];
  return {
    scope: queue.scope,
    jobs: jobs.slice(0, max),
    complete: queue.complete && jobs.length <= max,
  };
}
