import type { CreateGenerationRequest } from "../../contracts/api.ts";
import type { GenerationEstimate } from "../../contracts/pricing.ts";
import type { ModerationPolicy } from "../../contracts/region-protocol.ts";
import { newId } from "../../contracts/ids.ts";
import { getGenerationForAccount } from "../../db/queries/generations.ts";
import type {
  GenerationDerivation,
  GenerationRow,
  GenerationStyle,
} from "../../db/schema/generations.ts";
import { cacheModeOf } from "../dedup/cache-directive.ts";
import { contentHashOf } from "../dedup/content-hash.ts";
import { ApiError, invalidRequest } from "../errors/index.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { sha256Hex } from "../lib/digest.ts";
import { checkPixels, laneFor } from "../limits/plan-checks.ts";
import {
  priceRequest,
  type PricedRequest,
  type PriceRequestDeps,
} from "../limits/price-request.ts";
import type { Caller } from "../middleware/auth/index.ts";
import {
  isPromptBlocked,
  moderatePrompt,
  promptBlockedError,
  promptModerationOf,
  promptStrictnessOf,
} from "../moderation/index.ts";
import type { GeoPoint } from "../routing/geo.ts";
import { acceptGeneration, findLiveReplay, type AcceptInput } from "./accept-generation.ts";
import { recordBlockedPrompt } from "./block-prompt.ts";
import {
  dispatchGeneration,
  intendedRoute,
  planDispatch,
  type PlannedDispatch,
} from "./dispatch-generation.ts";
import type { GenerationFlowDeps } from "./generation-flow-deps.ts";
import { resolveModelVersion } from "./model-version-cache.ts";
import { moderationPolicyOf } from "./moderation-policy.ts";
import { dryRunBlocked, estimateOf, projectToGenerateIn } from "./estimate-generation.ts";
import { dedupStyleOf, resolveStyle } from "./resolve-style.ts";

export { canonicalJson };

export const DEFAULT_MODEL = "cppn-glove";
export { IDEMPOTENCY_KEY_TTL_MS } from "./replay-cache.ts";

export interface CreateGenerationInput {
  caller: Caller;
  request: CreateGenerationRequest;
  idempotencyKey: string | undefined;
  requestId: string;
  client: GeoPoint | null;
  /** The edge location (request.cf.colo) routing learns round trips for; null: none. */
  colo?: string | null;
  callbackBase: string;
  /** The request's Cache-Control header (`no-cache` opts out of dedup and merging). */
  cacheControl?: string;
  /** Set when this generation is made from another (create-child-generation.ts). */
  parent?: GenerationParent;
}

/** What a child generation (an upscale; later a refine) takes from its parent. */
export interface GenerationParent {
  id: string;
  /** The parent's style, already resolved: it is kept, not resolved again. */
  style: GenerationStyle | null;
  derivation: GenerationDerivation;
}

export type CreateGenerationDeps = GenerationFlowDeps & PriceRequestDeps;

/**
 * `replayed`: an earlier request with the same Idempotency-Key and body made this generation.
 * `headers`: RateLimit and Cache-Status headers for the answer.
 */
export type CreateGenerationResult =
  | { row: GenerationRow; replayed: boolean; headers: Record<string, string>; estimate?: never }
  /** `dry_run`: what it would cost and where it would run; nothing was written or spent. */
  | { estimate: GenerationEstimate; replayed: false; row?: never; headers?: never };

/**
 * Accepts a generation: resolves model and project, applies the plan (size, lane, cost per
 * request), prices it, admits it against the account's limits (rate, concurrency, spend
 * reservation), answers it from the dedup cache or merges it into identical work in flight when
 * it can, else writes it `queued` (before any dispatch, so nothing accepted is lost) and routes it
 * to the nearest region that takes it. Throws 503 overloaded_error (row failed, spend refunded)
 * when no region can take it now.
 */
export async function createGeneration(
  input: CreateGenerationInput,
  deps: CreateGenerationDeps,
): Promise<CreateGenerationResult> {
  const { request, idempotencyKey } = input;
  const accountId = input.caller.account.id;
  // Only an Idempotency-Key's replays compare request hashes.
  const requestHash = idempotencyKey === undefined ? "" : await sha256Hex(canonicalJson(request));
  const replays = idempotencyKey !== undefined && !request.dry_run;
  const known = replays ? await knownReplay(accountId, idempotencyKey, deps) : null;
  if (known) return replay(known, requestHash);
  let prepared: PreparedSubmit;
  try {
    prepared = await prepareSubmit(input, deps);
  } catch (err) {
    // A replay is answered whatever would refuse a new request now (a model retired since, a
    // budget spent): the database decides whether it is one.
    const earlier =
      replays && err instanceof ApiError
        ? await findLiveReplay(deps, accountId, idempotencyKey)
        : null;
    if (earlier) return remembered(replay(earlier, requestHash), deps);
    throw err;
  }
  if (prepared.priced === null) return refuseBlockedPrompt(input, prepared, requestHash, deps);
  if (request.dry_run) {
    const { resolved, params, priced } = prepared;
    return { estimate: estimateOf(resolved, params, priced, input, deps), replayed: false };
  }

  const plan = await planSubmit(input, prepared, deps);
  const accepted = await acceptGeneration(
    acceptInputOf(input, prepared, plan, requestHash, deps),
    deps,
  );
  // A concurrent request with the same key won the insert, or this one came again.
  if (accepted.kind === "replayed") return remembered(replay(accepted.row, requestHash), deps);
  // Answered from the dedup cache, or following identical work in flight: no job to dispatch.
  if (accepted.kind !== "created") {
    return remembered({ row: accepted.row, replayed: false, headers: accepted.headers }, deps);
  }
  const row = await startDispatch(accepted.row, input, prepared, plan, deps);
  return remembered({ row, replayed: false, headers: accepted.headers }, deps);
}

/** A replay this isolate answered before: its fresh copy answers without a round trip. */
async function knownReplay(
  accountId: string,
  idempotencyKey: string,
  deps: CreateGenerationDeps,
): Promise<GenerationRow | null> {
  const known = deps.replays.get(accountId, idempotencyKey);
  if (!known) return null;
  return known.row ?? (await getGenerationForAccount(deps.db, accountId, known.generationId));
}

/**
 * A submit whose prompt moderation blocked: recorded as a `blocked` generation and refused 422,
 * or, when its Idempotency-Key already named a generation, answered as a replay of that one.
 */
async function refuseBlockedPrompt(
  input: CreateGenerationInput,
  prepared: BlockedSubmit,
  requestHash: string,
  deps: CreateGenerationDeps,
): Promise<CreateGenerationResult> {
  const { resolved, params, verdict } = prepared;
  const blocked = await recordBlockedPrompt(
    {
      caller: input.caller,
      request: input.request,
      resolved,
      params,
      verdict,
      idempotencyKey: input.idempotencyKey,
      requestHash,
      requestId: input.requestId,
      callbackBase: input.callbackBase,
    },
    deps,
  );
  if (!blocked.created) return replay(blocked.row, requestHash);
  throw promptBlockedError(blocked.row, blocked.headers);
}

/** What a priced submit decides before its one statement: its id, dedup key and route. */
interface SubmitPlan {
  id: string;
  moderation: ModerationPolicy | undefined;
  cacheMode: AcceptInput["cacheMode"];
  contentHash: string | null;
  planned: PlannedDispatch;
}

async function planSubmit(
  input: CreateGenerationInput,
  prepared: PricedSubmit,
  deps: CreateGenerationDeps,
): Promise<SubmitPlan> {
  const { resolved, params } = prepared;
  const moderation = moderationPolicyOf(prepared.project);
  const cacheMode = cacheModeOf(input.request, input.cacheControl);
  const contentHash =
    cacheMode === "use" ? await contentHashFor(input, prepared, moderation) : null;

  // Routed before it is written: the row names its region and job from the first read on, so
  // writing it is the submit's one round trip to the database (dispatch-generation.ts).
  const id = newId("generation");
  const planned = await planDispatch(
    {
      generationId: id,
      attempt: 1,
      lane: params.priority,
      model: `${resolved.model.name}@${resolved.version.version}`,
      from: input.client,
      colo: input.colo,
    },
    deps,
  );
  return { id, moderation, cacheMode, contentHash, planned };
}

/** The dedup key of a submit that may be answered from the cache or merged (cache mode `use`). */
function contentHashFor(
  input: CreateGenerationInput,
  prepared: PricedSubmit,
  moderation: ModerationPolicy | undefined,
): Promise<string> {
  const { request, parent } = input;
  const { resolved, style, params } = prepared;
  return contentHashOf({
    accountId: input.caller.account.id,
    model: resolved.model.name,
    modelVersion: resolved.version.version,
    prompt: request.prompt,
    negativePrompt: request.negative_prompt,
    ...params,
    style: style && dedupStyleOf(style),
    moderation,
    // A resample draws nothing: its bytes are its parent's, scaled.
    resampled: parent?.derivation.source?.sha256,
  });
}

/** The generation to write `queued`, with its reservation and intended route (acceptGeneration). */
function acceptInputOf(
  input: CreateGenerationInput,
  prepared: PricedSubmit,
  plan: SubmitPlan,
  requestHash: string,
  deps: CreateGenerationDeps,
): AcceptInput {
  const { caller, request, idempotencyKey, parent } = input;
  const { resolved, style, params, verdict, priced } = prepared;
  const estimate = priced.estimateMicrousd;
  return {
    // A `stop` budget of the account lowers the cap its limiter enforces.
    plan: { ...caller.plan, monthlySpendCapMicrousd: priced.spendCapMicrousd },
    values: {
      id: plan.id,
      accountId: caller.account.id,
      projectId: request.project ?? null,
      apiKeyId: caller.apiKey.id,
      modelVersionId: resolved.version.id,
      model: resolved.model.name,
      modelVersion: resolved.version.version,
      prompt: request.prompt,
      negativePrompt: request.negative_prompt ?? null,
      params,
      metadata: request.metadata ?? {},
      status: "queued",
      createdAt: new Date(deps.clock()),
      ...intendedRoute(plan.planned),
      // Written before any dispatch: if this process stops before one, the sweep does it.
      leaseExpiresAt: new Date(deps.clock() + deps.leases.dispatchLeaseMs),
      costEstimatedMicrousd: estimate,
      idempotencyKey: idempotencyKey ?? null,
      requestHash: idempotencyKey === undefined ? null : requestHash,
      style,
      parentGenerationId: parent?.id ?? null,
      derivation: parent?.derivation ?? null,
      webhook: request.webhook ?? null,
      moderation: promptModerationOf(verdict),
      requestId: input.requestId,
      contentHash: plan.contentHash,
      priceMultiplier: caller.plan.priceMultiplier,
      mode: caller.apiKey.mode,
      laneChange: priced.laneChange,
    },
    reserveMicrousd: estimate,
    cacheMode: plan.cacheMode,
    callbackBase: input.callbackBase,
  };
}

/**
 * Offers the generation just written to the regions as planned, and returns its row as stored.
 * Throws 503 overloaded_error when no region can take it now (the row failed, its spend refunded)
 * and api_error when a region refused it outright.
 */
async function startDispatch(
  written: GenerationRow,
  input: CreateGenerationInput,
  prepared: PricedSubmit,
  plan: SubmitPlan,
  deps: CreateGenerationDeps,
): Promise<GenerationRow> {
  const { row, result } = await dispatchGeneration(
    {
      row: written,
      attempt: 1,
      from: input.client,
      colo: input.colo ?? null,
      callbackBase: input.callbackBase,
      gpuMsPerMegapixel: prepared.resolved.version.gpuMsPerMegapixel,
      moderation: plan.moderation,
      // The caller is still here: answer 503 now rather than keep it waiting for a region.
      onNoRegion: "fail",
      planned: plan.planned,
      // The row names the region already: the rest of the outcome is written after the answer.
      recordRoute: "behind",
    },
    deps,
  );
  if (result.kind === "exhausted") {
    throw new ApiError({
      type: "overloaded_error",
      code: "no_region_available",
      message: "no region can take the job right now; retry later",
      headers: { "Retry-After": String(result.retryAfterS) },
    });
  }
  if (result.kind === "rejected") {
    throw new ApiError({
      type: "api_error",
      code: "region_rejected_job",
      message: `generation ${row.id} failed: a region refused the job`,
    });
  }
  return row;
}

type PreparedSubmit = Awaited<ReturnType<typeof prepareSubmit>>;
/** A submit moderation blocked: recorded and refused, never priced. */
type BlockedSubmit = Extract<PreparedSubmit, { priced: null }>;
type PricedSubmit = Extract<PreparedSubmit, { priced: PricedRequest }>;

/**
 * What a submit is, before anything is written: the plan's checks, model version and project,
 * parameters, the prompt's verdict, and (unless blocked) its price. Throws the request's refusal.
 */
async function prepareSubmit(input: CreateGenerationInput, deps: CreateGenerationDeps) {
  const { caller, request } = input;
  const accountId = caller.account.id;
  const { plan } = caller;
  checkPixels(plan, request.width, request.height);
  deps.webhooks.checkTarget(request.webhook);

  const [name, pinned] = (request.model ?? DEFAULT_MODEL).split("@") as [string, string?];
  const resolved = await resolveModelVersion(
    deps.db,
    name,
    pinned,
    deps.clock(),
    accountId,
    deps.waitUntil,
  );
  if (!resolved) {
    throw invalidRequest(
      "model_not_found",
      pinned === undefined
        ? `model '${name}' does not exist or has no default version`
        : `model version '${name}@${pinned}' does not exist or is retired`,
      "model",
    );
  }
  const project =
    request.project === undefined
      ? null
      : await projectToGenerateIn(deps.db, accountId, request.project);
  const style = input.parent
    ? input.parent.style
    : await resolveStyle(request.style, accountId, resolved, deps.db);

  const params = {
    width: request.width,
    height: request.height,
    seed: request.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
    priority: laneFor(plan, request.priority),
  };
  // Prompt moderation (the negative prompt names what must not appear: it is not moderated). A
  // blocked prompt is kept as a `blocked` generation, visible in the caller's list, and answered
  // 422 before any pricing, reservation or dispatch.
  const verdict = moderatePrompt(request.prompt, promptStrictnessOf(project));
  if (verdict.action === "block" && request.dry_run) throw dryRunBlocked(verdict);
  if (verdict.action === "block") {
    return { resolved, project, style, params, verdict, priced: null };
  }
  await deps.catalog.rows();
  const likelyRegion = deps.directory.rank(input.client)[0];
  const priced = await priceRequest(
    {
      caller,
      projectId: project?.id ?? null,
      modelVersionId: resolved.version.id,
      gpuMsPerMegapixel: resolved.version.gpuMsPerMegapixel,
      width: params.width,
      height: params.height,
      lane: params.priority,
      region: likelyRegion?.name ?? null,
    },
    deps,
  );
  params.priority = priced.lane;
  return { resolved, project, style, params, verdict, priced };
}

/** The answer, its generation remembered for replays of its Idempotency-Key in this isolate. */
function remembered(
  result: CreateGenerationResult,
  deps: CreateGenerationDeps,
): CreateGenerationResult {
  if (result.row) deps.replays.remember(result.row);
  return result;
}

function replay(earlier: GenerationRow, requestHash: string): CreateGenerationResult {
  if (earlier.requestHash !== requestHash) {
    throw new ApiError({
      type: "idempotency_error",
      code: "idempotency_key_reused",
      message: "this Idempotency-Key was used with a different request body",
    });
  }
  // The same request again: a blocked prompt is refused again, the same way.
  if (isPromptBlocked(earlier)) throw promptBlockedError(earlier);
  return { row: earlier, replayed: true, headers: {} };
}
