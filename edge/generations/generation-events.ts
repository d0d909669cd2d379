import { GenerationEventType } from "../../contracts/api.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";

// What a stream of a generation's progress says, derived from its row: `queued` until a region
// takes the job, `routed` once one did (again after a failover), then the status itself.

export interface GenerationEvent {
  type: GenerationEventType;
  /** The row as it stood at this event (earlier states are reconstructed from the timeline). */
  row: GenerationRow;
  /** SSE id: changes exactly when a new event is due (a new state, or a new region). */
  id: string;
}

const RANK: Record<GenerationEventType, number> = {
  queued: 0,
  routed: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  blocked: 3,
  canceled: 3,
};

export function eventTypeOf(row: GenerationRow): GenerationEventType {
  if (row.status === "queued") return row.routedAt !== null ? "routed" : "queued";
  return row.status;
}

export function eventOf(row: GenerationRow): GenerationEvent {
  const type = eventTypeOf(row);
  return { type, row, id: `${type}.${row.region ?? "-"}.${row.routedAt?.getTime() ?? 0}` };
}

/**
 * The events between what a stream last sent and the row now, oldest first. A poll can see a
 * generation jump several states at once (it ran and finished between two reads, or in another
 * isolate); the skipped `routed` / `running` states are rebuilt from the row's own timestamps,
 * so a listener always sees the states the generation went through, not only the last one.
 */
export function eventsSince(
  last: Pick<GenerationEvent, "type" | "id"> | null,
  row: GenerationRow,
): GenerationEvent[] {
  const current = eventOf(row);
  if (last === null) return [current];
  if (last.id === current.id) return [];
  const from = RANK[last.type];
  const to = RANK[current.type];
  const missed: GenerationEvent[] = [];
  if (from < 1 && to > 1 && row.routedAt !== null && row.region !== null) {
    missed.push(eventOf(asRouted(row)));
  }
  if (from < 2 && to > 2 && row.startedAt !== null && row.status !== "canceled") {
    missed.push(eventOf(asRunning(row)));
  }
  return [...missed, current];
}

/** Where a reconnecting client's `Last-Event-ID` left off; null when it is not one of ours. */
export function resumePoint(
  lastEventId: string | undefined,
): Pick<GenerationEvent, "type" | "id"> | null {
  if (lastEventId === undefined) return null;
  const type = GenerationEventType.safeParse(lastEventId.split(".", 1)[0]);
  return type.success && /^[a-z]+\.[a-z0-9-]+\.\d{1,16}$/.test(lastEventId)
    ? { type: type.data, id: lastEventId }
    : null;
}

const NOT_FINISHED = {
  completedAt: null,
  error: null,
  assetKey: null,
  contentType: null,
  bytes: null,
  width: null,
  height: null,
  outputSha256: null,
  gpuMs: null,
  costActualMicrousd: null,
} satisfies Partial<GenerationRow>;

function asRunning(row: GenerationRow): GenerationRow {
  return { ...row, ...NOT_FINISHED, status: "running" };
}

function asRouted(row: GenerationRow): GenerationRow {
  return { ...row, ...NOT_FINISHED, status: "queued", startedAt: null };
}
