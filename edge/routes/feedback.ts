import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { Generation, RefineRequest } from "../../contracts/api.ts";
import {
  FeedbackList,
  FeedbackObject,
  FeedbackRequest,
  ListFeedbackQuery,
} from "../../contracts/feedback.ts";
import { InvalidCursorError } from "../../db/queries/cursor.ts";
import { listVotes } from "../../db/queries/feedback.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { invalidRequest } from "../errors/index.ts";
import { castFeedback, toFeedback, withdrawFeedback } from "../feedback/cast-feedback.ts";
import type { FeedbackDeps } from "../feedback/cast-feedback.ts";
import { refineGeneration } from "../generations/refine-generation.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  GenerationIdParams,
  jsonContent,
  jsonRequestBody,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { generationDeps } from "./generation-deps.ts";
import {
  answerSubmit,
  generationResponseHeaders,
  submitHeaders,
  submitRequestOf,
} from "./submit-generation.ts";

const castFeedbackRoute = createRoute({
  operationId: "castFeedback",
  method: "post",
  path: "/generations/{id}/feedback",
  summary: "Like, dislike or report an output",
  description:
    "The caller's one vote on a succeeded output of its own or of a public project (anything else is 404): the same kind again is idempotent, another kind replaces it. Rate-limited per account (429 `vote_rate_limit_exceeded`). Reports from trusted accounts past a threshold hide a public output pending review (then 451 to all but its owner). Likes on your own outputs and votes with test-mode keys are shown but never used for training.",
  tags: ["Feedback"],
  security: requiresScope("generations:write"),
  request: { params: GenerationIdParams, body: jsonRequestBody("FeedbackRequest") },
  responses: {
    200: jsonContent(FeedbackObject, "The caller's vote as it now stands."),
    ...errorResponses(400, 401, 403, 404, 413, 429, 451),
  },
});

const withdrawFeedbackRoute = createRoute({
  operationId: "withdrawFeedback",
  method: "delete",
  path: "/generations/{id}/feedback",
  summary: "Take a vote back",
  description:
    "Deletes the caller's vote on the output; 404 `feedback_not_found` when it has none.",
  tags: ["Feedback"],
  security: requiresScope("generations:write"),
  request: { params: GenerationIdParams },
  responses: {
    200: jsonContent(FeedbackObject, "The vote that was withdrawn."),
    ...errorResponses(401, 403, 404, 429, 451),
  },
});

const listFeedbackRoute = createRoute({
  operationId: "listFeedback",
  method: "get",
  path: "/feedback",
  summary: "List your votes",
  description: "The caller's own votes, most recently cast first, a page at a time.",
  tags: ["Feedback"],
  security: requiresScope("generations:read"),
  request: { query: ListFeedbackQuery },
  responses: { 200: jsonContent(FeedbackList, "One page."), ...errorResponses(400, 401, 403) },
});

const refineRoute = createRoute({
  operationId: "refineGeneration",
  method: "post",
  path: "/generations/{id}/refine",
  summary: "Refine an output",
  description:
    "A new generation drawn from a succeeded output of your own or of a public project (`parent_id`): the same prompt, seed, size, model version and lane unless given; on a version with a style input the source is its style reference at 1 - `strength`. Priced, limited and answered like `POST /v1/generations` (Idempotency-Key, `Prefer: wait`). A refine tells the platform the output was worth working on.",
  tags: ["Generations"],
  security: requiresScope("generations:write"),
  parameters: submitHeaders,
  request: { params: GenerationIdParams, body: jsonRequestBody("RefineRequest") },
  responses: {
    200: {
      ...jsonContent(Generation, "Ended, replayed, or answered from the dedup cache."),
      headers: generationResponseHeaders,
    },
    202: {
      ...jsonContent(Generation, "Accepted: queued at a region."),
      headers: generationResponseHeaders,
    },
    ...errorResponses(400, 401, 402, 403, 404, 409, 413, 422, 429, 451, 503),
  },
});

/** Feedback on outputs and refines: /v1/generations/:id/feedback|refine and /v1/feedback. */
export function feedbackRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const dispatchDeps = generationDeps(s);
  app.openAPIRegistry.register("FeedbackRequest", FeedbackRequest);
  app.openAPIRegistry.register("RefineRequest", RefineRequest);
  const deps = (origin: string): FeedbackDeps => ({
    db: s.db,
    limits: s.limits,
    clock: s.clock,
    log: s.log,
    reportThreshold: s.tuning.reportThreshold,
    hiddenAssets: s.hiddenAssets,
    responseCache: s.responseCache,
    cacheOrigins: [origin, s.publicUrl],
  });
  const origin = (url: string) => new URL(url).origin;

  app.openapi(
    {
      ...castFeedbackRoute,
      middleware: [
        ...guard(castFeedbackRoute),
        jsonBody({ schema: FeedbackRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await castFeedback(c.var.caller, id, c.var.body, deps(origin(c.req.url)));
      return c.json(toFeedback(row), 200);
    },
  );

  app.openapi({ ...withdrawFeedbackRoute, middleware: guard(withdrawFeedbackRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await withdrawFeedback(c.var.caller, id, deps(origin(c.req.url)));
    return c.json(toFeedback(row), 200);
  });

  app.openapi({ ...listFeedbackRoute, middleware: guard(listFeedbackRoute) }, async (c) => {
    const query = c.req.valid("query");
    try {
      const page = await listVotes(s.db, c.var.caller.account.id, query);
      return c.json(
        { object: "list" as const, data: page.data.map(toFeedback), next_cursor: page.nextCursor },
        200,
      );
    } catch (err) {
      if (err instanceof InvalidCursorError) throw invalidRequest(err.code, err.message, "cursor");
      throw err;
    }
  });

  app.openapi(
    {
      ...refineRoute,
      middleware: [
        ...guard(refineRoute),
        jsonBody({ schema: RefineRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await refineGeneration(
        {
          ...submitRequestOf(c, s),
          cacheControl: c.req.header("cache-control"),
          generationId: id,
          request: c.var.body,
        },
        dispatchDeps,
      );
      const answer = await answerSubmit(c, s, result);
      return c.json(answer.body, answer.status);
    },
  );

  return app;
}
