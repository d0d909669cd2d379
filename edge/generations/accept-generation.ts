import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import { acceptGenerationRow, generationAsWritten } from "../../db/queries/generation-accept.ts";
import { expireIdempotencyKey, insertGenerationOnce } from "../../db/queries/generation-dedup.ts";
import {
  findGenerationByIdempotencyKey,
  findSucceededByContentHash,
  getGeneration,
} from "../../db/queries/generations.ts";
import { insertReservation } from "../../db/queries/usage-ledger.ts";
import type { GenerationRow, NewGenerationRow } from "../../db/schema/generations.ts";
import type { Plan } from "../../db/schema/plans.ts";
import { cacheStatus, type CacheOutcome } from "../dedup/cache-directive.ts";
import type { DedupSource } from "../dedup/dedup-sources.ts";
import { ApiError } from "../errors/index.ts";
import { admitGeneration, releaseAdmission } from "../limits/admission.ts";
import { handOverFollowers } from "./followers.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { IDEMPOTENCY_KEY_TTL_MS } from "./replay-cache.ts";
import { finishEnded, insertEnded } from "./transitions.ts";

// Accepting a submit costs one round trip to the database in the common cases (docs/benchmarks.md,
// "A far database"): the account's limiter (in this process, or its Durable Object) admits it, then
// ONE statement writes the row with its reservation and intended route, or finds instead that the
// work already succeeded (answered from storage) or that the Idempotency-Key was used (a replay).
// A dedup hit this isolate already knows skips that statement for the one that writes its answer.

export interface AcceptInput {
  plan: Plan;
  /** The generation as it would be written to run on a GPU: queued, id, dedup key and route set. */
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
 * - replayed: the account used this Idempotency-Key before (or concurrently): its generation.
 */
export type AcceptResult =
  | { kind: "created" | "merged" | "cached"; row: GenerationRow; headers: Record<string, string> }
  | { kind: "replayed"; row: GenerationRow };

const withStatus = (outcome: CacheOutcome, headers: Record<string, string>) => ({
  ...headers,
  "Cache-Status": cacheStatus(outcome),
});

/**
 * Admits a validated, priced request against the account's limits and writes its generation,
 * answering from the dedup cache or merging into identical work in flight when allowed. A replay
 * consumes nothing and a dedup hit takes no slot or spend, whichever way they are found.
 */
export async function acceptGeneration(
  input: AcceptInput,
  deps: GenerationFlowDeps,
): Promise<AcceptResult> {
  const { values, plan } = input;
  const hash = values.contentHash ?? null;
  const admission = { accountId: values.accountId, plan, generationId: values.id };

  // Seeded work this isolate has seen succeed: one statement writes the answer.
  const known = hash === null ? null : deps.dedupSources.get(hash);
  if (known) {
    const headers = await admitGeneration({ ...admission, reserveMicrousd: 0, slot: false }, deps);
    return answerFromStorage(input, known, headers, deps);
  }

  let headers: Record<string, string>;
  try {
    headers = await admitGeneration(
      { ...admission, reserveMicrousd: input.reserveMicrousd, slot: true },
      deps,
    );
  } catch (err) {
    const answered = await answerRefused(input, err, deps);
    if (answered) return answered;
    throw err;
  }
  let written: Written;
  try {
    written = await writeGeneration(deps, values, input.reserveMicrousd);
  } catch (err) {
    await releaseAdmission(values.accountId, values.id, 0, deps);
    throw err;
  }

  switch (written.kind) {
    case "idempotent":
      await releaseAdmission(values.accountId, values.id, 0, deps, { refundToken: true });
      return { kind: "replayed", row: written.generation };
    case "in_flight":
      await releaseAdmission(values.accountId, values.id, 0, deps);
      throw new Error("unexpected conflict writing a generation: in_flight");
    case "cached": {
      // A request after all, but no slot or spend: the hold goes back, the rate token stays used.
      await releaseAdmission(values.accountId, values.id, 0, deps);
      deps.dedupSources.remember(written.source);
      return answerFromStorage(input, written.source, headers, deps);
    }
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
      const outcome = hash !== null ? "miss" : input.cacheMode === "request" ? "request" : "bypass";
      return { kind: "created", row: written.generation, headers: withStatus(outcome, headers) };
    }
  }
}

/**
 * The account's earlier generation with this Idempotency-Key, unless its 24 hours are over (then
 * the key is freed for a new generation): null when this is no replay.
 */
export async function findLiveReplay(
  deps: GenerationFlowDeps,
  accountId: string,
  idempotencyKey: string,
): Promise<GenerationRow | null> {
  const earlier = await findGenerationByIdempotencyKey(deps.db, accountId, idempotencyKey);
  return earlier && !(await expiredKeyFreed(deps, earlier)) ? earlier : null;
}

/** Frees the Idempotency-Key of `earlier` if its 24 hours are over; true when it did. */
async function expiredKeyFreed(deps: GenerationFlowDeps, earlier: GenerationRow): Promise<boolean> {
  const expiredBefore = new Date(deps.clock() - IDEMPOTENCY_KEY_TTL_MS);
  // A replay within its 24 hours (the common case) costs no write.
  if (earlier.createdAt >= expiredBefore) return false;
  if (!(await expireIdempotencyKey(deps.db, earlier.id, expiredBefore))) return false;
  if (earlier.idempotencyKey !== null) {
    deps.replays.forget(earlier.accountId, earlier.idempotencyKey);
  }
  return true;
}

/**
 * Refused for concurrency or spend (the limiter took the rate token): the database may still
 * answer it without either: a replay (consumes nothing: its token comes back) or a dedup hit
 * (no slot or spend; the token it already took is its one). Null: the refusal stands.
 */
async function answerRefused(
  input: AcceptInput,
  err: unknown,
  deps: GenerationFlowDeps,
): Promise<AcceptResult | null> {
  if (
    !(err instanceof ApiError) ||
    (err.code !== "concurrency_limit_exceeded" && err.code !== "monthly_spend_cap_exceeded")
  ) {
    return null;
  }
  const { values } = input;
  if (values.idempotencyKey != null) {
    const earlier = await findLiveReplay(deps, values.accountId, values.idempotencyKey);
    if (earlier) {
      await releaseAdmission(values.accountId, values.id, 0, deps, { refundToken: true });
      return { kind: "replayed", row: earlier };
    }
  }
  if (values.contentHash == null) return null;
  const source = await findSucceededByContentHash(deps.db, values.contentHash);
  if (!source) return null;
  deps.dedupSources.remember(source);
  const headers = await admitGeneration(
    {
      accountId: values.accountId,
      plan: input.plan,
      generationId: values.id,
      reserveMicrousd: 0,
      slot: false,
      rateToken: false,
    },
    deps,
  );
  return answerFromStorage(input, source, headers, deps);
}

/** The request answered from `source`'s stored output: a finished generation, written once. */
async function answerFromStorage(
  input: AcceptInput,
  source: DedupSource,
  headers: Record<string, string>,
  deps: GenerationFlowDeps,
): Promise<AcceptResult> {
  const { values } = input;
  const now = deps.clock();
  const row = generationAsWritten(cachedCopy(values, source, now), new Date(now));
  // Usage counts the answer and what it saved: the stored work's cost (no hold to close).
  const saved = values.mode === "test" ? 0 : (source.costActualMicrousd ?? 0);
  const ended = await insertEnded(row, saved, input.callbackBase, deps);
  if (ended) return { kind: "cached", row: ended, headers: withStatus("hit", headers) };
  // Only an Idempotency-Key used meanwhile (a concurrent twin) can stop a finished row's write.
  const earlier =
    values.idempotencyKey == null
      ? null
      : await findGenerationByIdempotencyKey(deps.db, values.accountId, values.idempotencyKey);
  if (!earlier) throw new Error("unexpected conflict writing a generation answered from storage");
  await releaseAdmission(values.accountId, values.id, 0, deps, { refundToken: true });
  return { kind: "replayed", row: earlier };
}

type Written =
  | { kind: "created"; generation: GenerationRow }
  | { kind: "cached"; source: GenerationRow }
  | { kind: "merged"; generation: GenerationRow; leader: GenerationRow }
  | { kind: "idempotent"; generation: GenerationRow }
  | { kind: "in_flight"; leader: GenerationRow };

/**
 * Writes the generation with its reservation: one statement, which also finds succeeded identical
 * work or an earlier use of the Idempotency-Key instead. On another conflict (identical work in
 * flight, a concurrent twin) a transaction decides between a replay, following the leader in
 * flight, or a retry.
 */
async function writeGeneration(
  deps: GenerationFlowDeps,
  values: AcceptInput["values"],
  reserveMicrousd: number,
): Promise<Written> {
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const fast = await acceptGenerationRow(deps.db, values, { reserveMicrousd });
    if (fast.kind === "created") return fast;
    if (fast.kind === "cached") return fast;
    if (fast.kind === "idempotent") {
      // Past its 24 hours the key is freed, and the statement tried again.
      if (attempt === 1 && (await expiredKeyFreed(deps, fast.generation))) continue;
      return fast;
    }
    break;
  }
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

function outputOf(source: DedupSource, now: number) {
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
  values: AcceptInput["values"],
  source: DedupSource,
  now: number,
): AcceptInput["values"] {
  const { startedAt, completedAt, ...output } = outputOf(source, now);
  return {
    ...values,
    ...output,
    status: "succeeded",
    costEstimatedMicrousd: 0,
    region: source.region,
    startedAt,
    completedAt,
    // Never dispatched: no route, no job, no lease.
    routedAt: null,
    routing: null,
    jobId: null,
    estimatedWaitMs: null,
    leaseExpiresAt: null,
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
    jobId: null,
    routing: null,
    leaseExpiresAt: null,
  };
}
