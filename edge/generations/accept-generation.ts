import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import {
  insertGenerationOnce,
  insertGenerationWithReservation,
} from "../../db/queries/generation-dedup.ts";
import {
  completeGeneration,
  findSucceededByContentHash,
  getGeneration,
} from "../../db/queries/generations.ts";
import { insertCacheHit, insertReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow, NewGenerationRow } from "../../db/schema/generations.ts";
import type { Plan } from "../../db/schema/plans.ts";
import { cacheStatus, type CacheOutcome } from "../dedup/cache-directive.ts";
import { admitGeneration, releaseAdmission } from "../limits/admission.ts";
import { handOverFollowers } from "./followers.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { endGeneration, finishEnded } from "./transitions.ts";

export interface AcceptInput {
  plan: Plan;
  /** The generation as it would be written to run on a GPU: queued, id and dedup key set. */
  values: NewGenerationRow & { id: string };
  /** The spend held for it until it settles (the estimate, plan multiplier included). */
  reserveMicrousd: number;
  /** How the request relates to the dedup cache (see cacheModeOf). */
  cacheMode: "use" | "request" | "bypass";
  callbackBase: string;
}

/**
 * - created: written queued, holding a slot and a reservation: dispatch it;
 * - merged: identical work is in flight: this generation follows it and runs no job of its own;
 * - cached: identical work already succeeded: answered from storage, finished, at no cost;
 * - replayed: a concurrent request with the same Idempotency-Key wrote its generation first.
 */
export type AcceptResult =
  | { kind: "created" | "merged" | "cached"; row: GenerationRow; headers: Record<string, string> }
  | { kind: "replayed"; row: GenerationRow };

/**
 * Admits a validated, priced request against the account's limits and writes its generation,
 * answering from the dedup cache or merging into identical work in flight when allowed.
 */
export async function acceptGeneration(
  input: AcceptInput,
  deps: GenerationFlowDeps,
): Promise<AcceptResult> {
  const { values, plan } = input;
  const hash = values.contentHash ?? null;
  const admission = { accountId: values.accountId, plan, generationId: values.id };
  const withStatus = (outcome: CacheOutcome, headers: Record<string, string>) => ({
    ...headers,
    "Cache-Status": cacheStatus(outcome),
  });

  if (hash !== null) {
    const source = await findSucceededByContentHash(deps.db, hash);
    if (source) {
      // An answer that finishes at once and costs nothing: a request, but no slot or spend.
      const headers = await admitGeneration(
        { ...admission, reserveMicrousd: 0, slot: false },
        deps,
      );
      // Written finished: the one owner of terminal transitions commits its webhook message with it.
      let copy: Awaited<ReturnType<typeof insertGenerationOnce>> | undefined;
      await endGeneration(
        async (tx) => {
          copy = await insertGenerationOnce(tx, cachedCopy(values, source, deps.clock()));
          if (copy.kind !== "created") return null;
          // Usage counts the answer and what it saved: the stored work's cost (no hold to close).
          const saved = values.mode === "test" ? 0 : (source.costActualMicrousd ?? 0);
          await insertCacheHit(tx, copy.generation, saved);
          return copy.generation;
        },
        input.callbackBase,
        deps,
      );
      if (copy!.kind !== "created") return replayed(copy!);
      return { kind: "cached", row: copy!.generation, headers: withStatus("hit", headers) };
    }
  }

  const headers = await admitGeneration(
    { ...admission, reserveMicrousd: input.reserveMicrousd, slot: true },
    deps,
  );
  let written: Written;
  try {
    written = await writeGeneration(deps, values, input.reserveMicrousd);
  } catch (err) {
    await releaseAdmission(values.accountId, values.id, 0, deps);
    throw err;
  }

  switch (written.kind) {
    case "idempotent":
    case "in_flight":
      await releaseAdmission(values.accountId, values.id, 0, deps);
      return replayed(written);
    case "merged": {
      // The leader may have ended before this follower was written: end it the same way now.
      const leader = await getGeneration(deps.db, written.leader.id);
      if (leader?.status === "canceled") await handOverFollowers(leader, input.callbackBase, deps);
      else if (leader && TERMINAL_STATUSES.has(leader.status)) {
        await finishEnded(leader, input.callbackBase, deps);
      }
      const row = (await getGeneration(deps.db, written.generation.id)) ?? written.generation;
      return { kind: "merged", row, headers: withStatus("collapsed", headers) };
    }
    case "created": {
      const row = written.generation;
      if (hash === null) {
        const outcome = input.cacheMode === "request" ? "request" : "bypass";
        return { kind: "created", row, headers: withStatus(outcome, headers) };
      }
      // Identical work that finished between the lookup above and this write: reuse its output.
      const late =
        written.lateSourceId === undefined
          ? await findSucceededByContentHash(deps.db, hash)
          : written.lateSourceId === null
            ? null
            : await getGeneration(deps.db, written.lateSourceId);
      if (!late) return { kind: "created", row, headers: withStatus("miss", headers) };
      const done = await endGeneration(
        (tx) => completeGeneration(tx, row.id, outputOf(late, deps.clock())),
        input.callbackBase,
        deps,
      );
      return { kind: "cached", row: done ?? row, headers: withStatus("hit", headers) };
    }
  }
}

type Written =
  | { kind: "created"; generation: GenerationRow; lateSourceId?: string | null }
  | { kind: "merged"; generation: GenerationRow; leader: GenerationRow }
  | { kind: "idempotent"; generation: GenerationRow }
  | { kind: "in_flight"; leader: GenerationRow };

/**
 * Writes the generation with its reservation. The common case is one statement, which also looks
 * for identical work that succeeded meanwhile (`lateSourceId`); on any conflict a transaction
 * decides between a replay (Idempotency-Key), following a leader in flight, or a retry.
 */
async function writeGeneration(
  deps: GenerationFlowDeps,
  values: AcceptInput["values"],
  reserveMicrousd: number,
): Promise<Written> {
  const fast = await insertGenerationWithReservation(deps.db, values, {
    reserveMicrousd,
    lateContentHash: values.contentHash ?? null,
  });
  if (fast) return { kind: "created", ...fast };
  return deps.db.transaction(async (tx): Promise<Written> => {
    const leader = await insertGenerationOnce(tx, values);
    if (leader.kind !== "in_flight") {
      if (leader.kind === "created") {
        await insertReservation(tx, leader.generation, reserveMicrousd);
      }
      return leader;
    }
    const follower = await insertGenerationOnce(tx, followerOf(values, leader.leader));
    if (follower.kind === "created") {
      await insertReservation(tx, follower.generation, reserveMicrousd);
      return { kind: "merged", generation: follower.generation, leader: leader.leader };
    }
    return follower;
  });
}

function replayed(
  result: { kind: "idempotent"; generation: GenerationRow } | { kind: "in_flight" | "created" },
): AcceptResult {
  if (result.kind !== "idempotent") {
    // Only an Idempotency-Key conflict can stop a generation that runs no job from being written.
    throw new Error(`unexpected conflict writing a generation: ${result.kind}`);
  }
  return { kind: "replayed", row: result.generation };
}

function outputOf(source: GenerationRow, now: number) {
  return {
    assetKey: source.assetKey!,
    contentType: source.contentType ?? "application/octet-stream",
    bytes: source.bytes ?? 0,
    width: source.width ?? source.params.width,
    height: source.height ?? source.params.height,
    outputSha256: source.outputSha256 ?? "",
    gpuMs: 0,
    costActualMicrousd: 0,
    region: source.region ?? undefined,
    startedAt: new Date(now),
    completedAt: new Date(now),
    cached: true,
    ...(source.moderation !== null && { moderation: source.moderation }),
  };
}

/** A finished generation answered from `source`'s stored output, at zero GPU time and cost. */
function cachedCopy(
  values: NewGenerationRow,
  source: GenerationRow,
  now: number,
): NewGenerationRow {
  const { startedAt, completedAt, ...output } = outputOf(source, now);
  return {
    ...values,
    ...output,
    status: "succeeded",
    costEstimatedMicrousd: 0,
    region: source.region,
    startedAt,
    completedAt,
  };
}

/** `values` attached to `leader`: it shows the leader's progress and runs no job. */
function followerOf(values: NewGenerationRow, leader: GenerationRow): NewGenerationRow {
  return {
    ...values,
    mergedIntoGenerationId: leader.id,
    status: leader.status === "running" ? "running" : "queued",
    startedAt: leader.status === "running" ? leader.startedAt : null,
    region: leader.region,
    routedAt: leader.routedAt,
    estimatedWaitMs: leader.estimatedWaitMs,
    // It holds no job of its own: its leader's lease covers it.
    leaseExpiresAt: null,
  };
}
