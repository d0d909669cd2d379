import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { SearchQueryParams, SearchRequest, SearchResults } from "../../contracts/api.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import {
  toGeneration,
  toPublicGeneration,
  type SerializeContext,
} from "../generations/serialize.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import { errorResponses, jsonContent, requiresScope } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { searchStyles, type SearchInput } from "../search/search-styles.ts";
import { serializeContext } from "./base-url.ts";

const DESCRIPTION =
  "Outputs nearest in style, most similar first: the caller's own and public ones only, never hidden ones. Each result has its cosine `score` and the generation with a signed `output.url` (another account's public output shows only its public fields).";

const searchRoute = createRoute({
  operationId: "searchStyles",
  method: "post",
  path: "/search",
  summary: "Search outputs by style",
  description: `${DESCRIPTION} Query by an output (\`generation\`: more like this), a prompt (\`text\`), or a style \`embedding\`; narrow by \`project\`, \`model\`, \`from\`, \`to\`; page with \`cursor\`.`,
  tags: ["Search"],
  security: requiresScope("generations:read"),
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: { $ref: "#/components/schemas/SearchRequest" } } },
    },
  },
  responses: {
    200: jsonContent(SearchResults, "One page of results."),
    ...errorResponses(400, 401, 404, 413, 422, 503),
  },
});

const searchTextRoute = createRoute({
  operationId: "searchStylesByText",
  method: "get",
  path: "/search",
  summary: "Search outputs by a prompt's style",
  description: `${DESCRIPTION} \`q\` is drawn by the model (\`model\`, default the default model) and placed in the style space.`,
  tags: ["Search"],
  security: requiresScope("generations:read"),
  request: { query: SearchQueryParams },
  responses: {
    200: jsonContent(SearchResults, "One page of results."),
    ...errorResponses(400, 401, 503),
  },
});

/** POST /v1/search and GET /v1/search?q=. */
export function searchRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const deps = { db: s.db, index: s.styleIndex, texts: s.textStyles, clock: s.clock };
  app.openAPIRegistry.register("SearchRequest", SearchRequest);

  /** The page for `input`, serialized: the caller's own in full, others' public fields only. */
  const page = async (input: SearchInput, ctx: SerializeContext) => {
    const { hits, nextCursor } = await searchStyles(input, deps);
    const data = await Promise.all(
      hits.map(async ({ row, score, owned }) => ({
        object: "search_result" as const,
        score,
        owned,
        generation: owned ? await toGeneration(row, ctx) : await toPublicGeneration(row, ctx),
      })),
    );
    return { object: "list" as const, data, next_cursor: nextCursor };
  };

  app.openapi(
    {
      ...searchRoute,
      middleware: [
        ...guard(searchRoute),
        jsonBody({ schema: SearchRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const body = c.var.body;
      const query: SearchInput["query"] =
        body.generation !== undefined
          ? { kind: "generation", id: body.generation }
          : body.text !== undefined
            ? { kind: "text", text: body.text }
            : { kind: "embedding", values: body.embedding! };
      const input = {
        ...filtersOf(body),
        query,
        accountId: c.var.caller.account.id,
        requestId: c.var.requestId,
      };
      c.header("Cache-Control", "private, no-store");
      return c.json(await page(input, serializeContext(c, s)), 200);
    },
  );

  app.openapi({ ...searchTextRoute, middleware: guard(searchTextRoute) }, async (c) => {
    const params = c.req.valid("query");
    const input = {
      ...filtersOf(params),
      query: { kind: "text" as const, text: params.q },
      accountId: c.var.caller.account.id,
      requestId: c.var.requestId,
    };
    c.header("Cache-Control", "private, no-store");
    return c.json(await page(input, serializeContext(c, s)), 200);
  });

  return app;
}

function filtersOf(p: {
  project?: string;
  model?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}): Omit<SearchInput, "query" | "accountId" | "requestId"> {
  return {
    limit: p.limit,
    ...(p.project !== undefined && { project: p.project }),
    ...(p.model !== undefined && { model: p.model }),
    ...(p.from !== undefined && { from: p.from }),
    ...(p.to !== undefined && { to: p.to }),
    ...(p.cursor !== undefined && { cursor: p.cursor }),
  };
}
