import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  CreateGenerationRequest,
  Generation,
  GenerationList,
  ListGenerationsQuery,
} from "../../contracts/api.ts";
import { GenerationEstimate } from "../../contracts/pricing.ts";
import { z } from "../../contracts/zod.ts";
import { InvalidCursorError } from "../../db/queries/cursor.ts";
import { listGenerations } from "../../db/queries/generations.ts";
import { getProjectAccess } from "../../db/queries/projects.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { invalidRequest } from "../errors/index.ts";
import { createGeneration } from "../generations/create-generation.ts";
import { ownGeneration } from "../generations/own-generation.ts";
import { toGeneration, toGenerations } from "../generations/serialize.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import {
  errorResponses,
  GenerationIdParams,
  jsonContent,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { serializeContext } from "./base-url.ts";
import { generationDeps } from "./generation-deps.ts";
import {
  answerSubmit,
  generationResponseHeaders,
  submitHeaders,
  submitRequestOf,
} from "./submit-generation.ts";

// The body is declared by reference: the jsonBody middleware reads it (bounded: 413), parses and
// validates it with this schema, so non-JSON content types are answered by our envelope, not 415.
const createGenerationRoute = createRoute({
  operationId: "createGeneration",
  method: "post",
  path: "/",
  summary: "Create a generation",
  description:
    'Moderates the prompt, reserves spend, and routes the job to the region expected to finish it soonest. Answers 202 while it runs (200 when `Prefer: wait` saw it end, on a replay, or from the dedup cache). With `"dry_run": true` it answers 200 with a GenerationEstimate (cost, lane, region, wait) and creates nothing. Test-mode keys are never charged. Past the plan\'s cost per request the plan refuses (402 `cost_limit_exceeded`) or moves the request to the relax lane; a spent budget refuses (402 `budget_exceeded`) or moves it to relax, by its rule: `lane_change` says which happened.',
  tags: ["Generations"],
  security: requiresScope("generations:write"),
  parameters: submitHeaders,
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: { $ref: "#/components/schemas/CreateGenerationRequest" } },
      },
    },
  },
  responses: {
    200: {
      ...jsonContent(
        z.union([Generation, GenerationEstimate]),
        "Ended, replayed, or answered from the dedup cache; with `dry_run`, the estimate.",
      ),
      headers: generationResponseHeaders,
    },
    202: {
      ...jsonContent(Generation, "Accepted: queued at a region."),
      headers: generationResponseHeaders,
    },
    ...errorResponses(400, 401, 402, 409, 413, 422, 429, 503),
  },
});

const listGenerationsRoute = createRoute({
  operationId: "listGenerations",
  method: "get",
  path: "/",
  summary: "List generations",
  description: "The account's generations, newest first, a page at a time.",
  tags: ["Generations"],
  security: requiresScope("generations:read"),
  request: { query: ListGenerationsQuery },
  responses: { 200: jsonContent(GenerationList, "One page."), ...errorResponses(400, 401) },
});

const getGenerationRoute = createRoute({
  operationId: "getGeneration",
  method: "get",
  path: "/{id}",
  summary: "Get a generation",
  tags: ["Generations"],
  security: requiresScope("generations:read"),
  request: { params: GenerationIdParams },
  responses: { 200: jsonContent(Generation, "The generation."), ...errorResponses(401, 404) },
});

/** POST/GET /v1/generations and GET /v1/generations/:id. */
export function generationRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const dispatchDeps = generationDeps(s);
  app.openAPIRegistry.register("CreateGenerationRequest", CreateGenerationRequest);

  app.openapi(
    {
      ...createGenerationRoute,
      middleware: [
        ...guard(createGenerationRoute),
        jsonBody({ schema: CreateGenerationRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const created = await createGeneration(
        {
          ...submitRequestOf(c, s),
          cacheControl: c.req.header("cache-control"),
          request: c.var.body,
        },
        dispatchDeps,
      );
      if (created.estimate) return c.json(created.estimate, 200);
      const answer = await answerSubmit(c, s, created);
      return c.json(answer.body, answer.status);
    },
  );

  app.openapi({ ...listGenerationsRoute, middleware: guard(listGenerationsRoute) }, async (c) => {
    const query = c.req.valid("query");
    // A project the caller belongs to lists every member's generations under it.
    const shared =
      query.project !== undefined &&
      (await getProjectAccess(s.db, c.var.caller.account.id, query.project)) !== null;
    let page;
    try {
      page = await listGenerations(s.db, shared ? null : c.var.caller.account.id, {
        limit: query.limit,
        cursor: query.cursor,
        projectId: query.project,
        status: query.status,
        // Others' outputs hidden by reports leave lists shared with the caller.
        visibleTo: shared ? c.var.caller.account.id : undefined,
      });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw invalidRequest(err.code, err.message, "cursor");
      throw err;
    }
    const ctx = serializeContext(c, s);
    return c.json(
      {
        object: "list" as const,
        data: await toGenerations(page.data, ctx),
        next_cursor: page.nextCursor,
      },
      200,
    );
  });

  app.openapi({ ...getGenerationRoute, middleware: guard(getGenerationRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await ownGeneration(s.db, c.var.caller.account.id, id);
    return c.json(await toGeneration(row, serializeContext(c, s)), 200);
  });

  return app;
}
