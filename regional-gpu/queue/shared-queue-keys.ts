// Redis names of one region's shared queue. Every key carries the hash tag `{genart:<region>}`, so on
// a Redis Cluster (ElastiCache cluster mode) the queue's Lua scripts see all its keys on one shard.

export interface SharedQueueKeys {
  /** BullMQ prefix and queue name: keys are `<prefix>:<queueName>:...`. */
  prefix: string;
  queueName: string;
  /** `<accepted><job id>`: set when a node accepted the job, so a repeat is not queued again. */
  accepted: string;
  /** `<outcome><job id>`: the job's terminal event (OutcomeLedger). */
  outcome: string;
  /** Held by the node sweeping lane aging. */
  agingLock: string;
  /** Sorted set of node ids taking jobs, by when each last said so (activeNodes). */
  nodes: string;
  /** Held by the node sending the region's scaling metrics (metrics/publisher-lease.ts). */
  metricsPublisher: string;
}

export function sharedQueueKeys(region: string): SharedQueueKeys {
  const prefix = `{genart:${region}}`;
  return {
    prefix,
    queueName: "jobs",
    accepted: `${prefix}:accepted:`,
    outcome: `${prefix}:outcome:`,
    agingLock: `${prefix}:aging-lock`,
    nodes: `${prefix}:nodes`,
    metricsPublisher: `${prefix}:metrics-publisher`,
  };
}

/** BullMQ refuses ids that look like integers or contain ':'; this keeps any job id usable. */
export const bullJobId = (jobId: string) => `job-${encodeURIComponent(jobId)}`;

/** The job id behind a BullMQ id made by bullJobId; null for any other id. */
export function jobIdOf(bullId: string): string | null {
  if (!bullId.startsWith("job-")) return null;
  try {
    return decodeURIComponent(bullId.slice("job-".length));
  } catch {
    return null;
  }
}
