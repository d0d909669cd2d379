import { Hono } from "hono";
import {
  CreateGenerationRequest,
  ListGenerationsQuery,
  TERMINAL_STATUSES,
  type GenerationStatus,
} from "../../contracts/api.ts";
import { hasPrefix } from "../../contracts/ids.ts";
import { InvalidCursorError } from "../../db/queries/cursor.ts";
import { getGenerationForAccount, listGenerations } from "../../db/queries/generations.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { invalidRequest, notFound } from "../errors/index.ts";
import { createGeneration } from "../generations/create-generation.ts";
import { preferredWaitSeconds } from "../generations/prefer-wait.ts";
import { toGeneration } from "../generations/serialize.ts";
import { waitForTerminal } from "../generations/wait-for-terminal.ts";
import { auth } from "../middleware/auth/index.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { clientLocation, edgeColo } from "../routing/geo.ts";
import { parseOrThrow } from "../validation/index.ts";
import { baseUrl, serializeContext } from "./base-url.ts";
import { generationDeps } from "./generation-deps.ts";

// Printable ASCII without spaces, like Stripe's: long enough for a UUID or a hash.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw invalidRequest(
      "invalid_idempotency_key",
      "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
    );
  }
  return header;
}

const isTerminal = (status: GenerationStatus) => TERMINAL_STATUSES.has(status);

/** POST/GET /v1/generations and GET /v1/generations/:id. */
export function generationRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const requireKey = auth({ authenticator: s.authenticator });
  const dispatchDeps = generationDeps(s);

  app.post(
    "/",
    requireKey,
    jsonBody({ schema: CreateGenerationRequest, maxBytes: s.tuning.maxBodyBytes }),
    async (c) => {
      const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
      const waitS = preferredWaitSeconds(c.req.header("prefer"));
      const { row, replayed, headers } = await createGeneration(
        {
          caller: c.var.caller,
          request: c.var.body,
          idempotencyKey,
          requestId: c.var.requestId,
          client: clientLocation(c.req.raw, s.environment),
          colo: edgeColo(c.req.raw, s.environment),
          callbackBase: baseUrl(c, s),
          cacheControl: c.req.header("cache-control"),
        },
        dispatchDeps,
      );
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      let current = row;
      if (waitS > 0) {
        current = await waitForTerminal(row, waitS * 1000, {
          db: s.db,
          notifier: s.notifier,
          pollMs: s.tuning.waitPollMs,
        });
        c.header("Preference-Applied", `wait=${waitS}`);
      }
      if (replayed) c.header("Idempotent-Replayed", "true");
      c.header("Location", `/v1/generations/${current.id}`);
      const status = replayed || isTerminal(current.status) ? 200 : 202;
      return c.json(await toGeneration(current, serializeContext(c, s)), status);
    },
  );

  app.get("/", requireKey, async (c) => {
    const query = parseOrThrow(ListGenerationsQuery, c.req.query());
    let page;
    try {
      page = await listGenerations(s.db, c.var.caller.account.id, {
        limit: query.limit,
        cursor: query.cursor,
        projectId: query.project,
        status: query.status,
      });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw invalidRequest(err.code, err.message, "cursor");
      throw err;
    }
    const ctx = serializeContext(c, s);
    return c.json({
      object: "list" as const,
      data: await Promise.all(page.data.map((row) => toGeneration(row, ctx))),
      next_cursor: page.nextCursor,
    });
  });

  app.get("/:id", requireKey, async (c) => {
    const id = c.req.param("id");
    const row = hasPrefix(id, "generation")
      ? await getGenerationForAccount(s.db, c.var.caller.account.id, id)
      : null;
    if (!row) throw notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");
    return c.json(await toGeneration(row, serializeContext(c, s)));
  });

  return app;
}
