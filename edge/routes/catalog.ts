import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ModelList, RegionInfo, RegionList } from "../../contracts/api.ts";
import type { z } from "../../contracts/zod.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import { errorResponses, jsonContent, requiresKey } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { cachedModelCatalog } from "./model-catalog.ts";
import type { RegionHealth } from "../routing/route-plan.ts";

const modelsRoute = createRoute({
  operationId: "listModels",
  method: "get",
  path: "/models",
  summary: "List models",
  description:
    "Every model with its versions (newest first): rollout state (candidate, canary with its traffic share, default, retired), lineage, price per megapixel, preference metrics (like, dislike, refine, report and failure rates), and the latest steps of its rollout history (read at most 15 s earlier).",
  tags: ["Catalog"],
  security: requiresKey,
  responses: { 200: jsonContent(ModelList, "The models."), ...errorResponses(401) },
});

const regionsRoute = createRoute({
  operationId: "listRegions",
  method: "get",
  path: "/regions",
  summary: "List regions",
  description:
    "Public status of each GPU region as this edge sees it from their heartbeats: health, queue depth per lane, warm models.",
  tags: ["Catalog"],
  security: requiresKey,
  responses: { 200: jsonContent(RegionList, "The regions."), ...errorResponses(401) },
});

const PUBLIC_STATUS: Record<RegionHealth, z.infer<typeof RegionInfo>["status"]> = {
  healthy: "healthy",
  draining: "degraded",
  tripped: "degraded",
  stale: "down",
  unknown: "down",
};

/** GET /v1/models and GET /v1/regions. */
export function catalogRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);

  app.openapi({ ...modelsRoute, middleware: guard(modelsRoute) }, async (c) => {
    const data = await cachedModelCatalog(s.db, s.clock());
    return c.json({ object: "list" as const, data }, 200);
  });

  app.openapi({ ...regionsRoute, middleware: guard(regionsRoute) }, async (c) => {
    c.header("Cache-Control", "no-store");
    // The regions table (read at most regionCatalogTtlMs ago) keeps the redispatch counters.
    const rows = await s.catalog.rows();
    const data = s.directory.describe().map((r) => ({
      object: "region" as const,
      name: r.name,
      status: PUBLIC_STATUS[r.health],
      queue_depth: r.queue_depth,
      warm_models: r.warm_models,
      last_heartbeat_at: r.last_heartbeat_at,
      redispatches: rows.get(r.name)?.redispatches ?? 0,
      lease_expiries: rows.get(r.name)?.leaseExpiries ?? 0,
    }));
    return c.json({ object: "list" as const, data }, 200);
  });

  return app;
}
