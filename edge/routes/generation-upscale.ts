import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { Generation, UpscaleRequest } from "../../contracts/api.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { upscaleGeneration } from "../generations/upscale-generation.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  GenerationIdParams,
  jsonContent,
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

const upscaleRoute = createRoute({
  operationId: "upscaleGeneration",
  method: "post",
  path: "/{id}/upscale",
  summary: "Upscale a generation",
  description:
    "A new generation (`parent_id` set) 2 or 4 times larger on each side, of a finished output you may read (yours, or a public one). Resolution-independent models draw the same picture again at the larger size; others resample the image (Lanczos-3). Priced per output megapixel like any render, within the plan's maximum pixels.",
  tags: ["Generations"],
  security: requiresScope("generations:write"),
  parameters: submitHeaders.filter((h) => h.name !== "Cache-Control"),
  request: {
    params: GenerationIdParams,
    body: {
      required: true,
      content: { "application/json": { schema: { $ref: "#/components/schemas/UpscaleRequest" } } },
    },
  },
  responses: {
    200: {
      ...jsonContent(Generation, "Ended (`Prefer: wait`), replayed, or from the dedup cache."),
      headers: generationResponseHeaders,
    },
    202: {
      ...jsonContent(Generation, "Accepted: queued at a region."),
      headers: generationResponseHeaders,
    },
    ...errorResponses(400, 401, 402, 404, 409, 413, 422, 429, 503),
  },
});

/** POST /v1/generations/:id/upscale. */
export function generationUpscaleRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const deps = { ...generationDeps(s), assetUrlSecret: s.secrets.assetUrl };
  app.openAPIRegistry.register("UpscaleRequest", UpscaleRequest);

  app.openapi(
    {
      ...upscaleRoute,
      middleware: [
        ...guard(upscaleRoute),
        jsonBody({ schema: UpscaleRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await upscaleGeneration(
        { ...submitRequestOf(c, s), generationId: id, request: c.var.body },
        deps,
      );
      const answer = await answerSubmit(c, s, result);
      return c.json(answer.body, answer.status);
    },
  );

  return app;
}
