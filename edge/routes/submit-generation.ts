import type { Context } from "hono";
import { TERMINAL_STATUSES, type Generation } from "../../contracts/api.ts";
import { z } from "../../contracts/zod.ts";
import type { EdgeServices } from "../deps.ts";
import type { Caller } from "../middleware/auth/api-key-authenticator.ts";
import { invalidRequest } from "../errors/index.ts";
import type { CreateGenerationResult } from "../generations/create-generation.ts";
import { toGeneration, type SerializeContext } from "../generations/serialize.ts";
import { preferredWaitSeconds } from "../generations/prefer-wait.ts";
import { waitForTerminal } from "../generations/wait-for-terminal.ts";
import { headerParameter } from "../openapi/responses.ts";
import { clientLocation, edgeColo } from "../routing/geo.ts";
import { baseUrl, serializeContext } from "./base-url.ts";

// What every route that starts a generation shares (POST /v1/generations, .../upscale): the
// Idempotency-Key and Prefer headers, and the answer (202 running, 200 ended or replayed).

// Printable ASCII without spaces, like Stripe's: long enough for a UUID or a hash.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw invalidRequest(
      "invalid_idempotency_key",
      "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
    );
  }
  return header;
}

export const submitHeaders = [
  headerParameter(
    "Idempotency-Key",
    "Replays within 24 h return the same generation; another body with it is 409.",
  ),
  headerParameter(
    "Prefer",
    "`wait=N` (N <= 60): answer when the generation ends or after N seconds.",
    "wait=30",
  ),
  headerParameter(
    "Cache-Control",
    "`no-cache`: do not answer from the dedup cache (like `cache: false`).",
  ),
];

export const generationResponseHeaders = z.object({
  Location: z.string().openapi({ description: "The generation's URL." }),
  "Idempotent-Replayed": z
    .string()
    .optional()
    .openapi({ description: "`true` when an Idempotency-Key replay answered." }),
  "Cache-Status": z
    .string()
    .optional()
    .openapi({ description: "RFC 9211: whether the dedup cache answered or merged the request." }),
  RateLimit: z.string().optional().openapi({ description: "Remaining quota (IETF draft fields)." }),
});

/** A submit that created or replayed a generation (a dry run's estimate is answered apart). */
export type Submitted = Extract<CreateGenerationResult, { row: unknown }>;

/**
 * The answer to a submit: waited on when `Prefer: wait` asked, with its headers. Past the
 * account's waiting holds the answer comes at once, without Preference-Applied: the work is
 * accepted either way, so it is not refused.
 */
export async function submitted(
  result: Submitted,
  waitS: number,
  accountId: string,
  s: EdgeServices,
  ctx: SerializeContext,
): Promise<{ status: 200 | 202; headers: Record<string, string>; body: Generation }> {
  const headers = { ...result.headers };
  let current = result.row;
  const release = waitS > 0 ? s.limits.hold("wait", accountId) : null;
  if (release) {
    try {
      current = await waitForTerminal(current, waitS * 1000, {
        db: s.db,
        notifier: s.notifier,
        pollMs: s.tuning.waitPollMs,
      });
    } finally {
      release();
    }
    headers["Preference-Applied"] = `wait=${waitS}`;
  }
  if (result.replayed) headers["Idempotent-Replayed"] = "true";
  headers.Location = `/v1/generations/${current.id}`;
  const ended = TERMINAL_STATUSES.has(current.status);
  // A generation created by this submit has no votes yet: no lookup (no extra round trip).
  const votes = result.replayed ? undefined : new Map();
  const body = await toGeneration(current, { ...ctx, now: s.clock() }, votes);
  return { status: result.replayed || ended ? 200 : 202, headers, body };
}

/** A route's env once auth has named the caller. */
type KeyedEnv = { Variables: { requestId: string; caller: Caller } };

/**
 * What every submit route (create, refine, upscale) reads from its request. The Idempotency-Key is
 * checked here, before any work (a malformed one is a 400).
 */
export function submitRequestOf<E extends KeyedEnv>(c: Context<E>, s: EdgeServices) {
  return {
    caller: c.var.caller,
    idempotencyKey: idempotencyKeyOf(c.req.header("idempotency-key")),
    requestId: c.var.requestId,
    client: clientLocation(c.req.raw, s.environment),
    colo: edgeColo(c.req.raw, s.environment),
    callbackBase: baseUrl(c, s),
  };
}

/** `submitted` for a route: waits as `Prefer` asks and sets the answer's headers on `c`. */
export async function answerSubmit<E extends KeyedEnv>(
  c: Context<E>,
  s: EdgeServices,
  result: Submitted,
) {
  const answer = await submitted(
    result,
    preferredWaitSeconds(c.req.header("prefer")),
    c.var.caller.account.id,
    s,
    serializeContext(c, s),
  );
  for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
  return answer;
}
