import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { RouteCandidate } from "../../contracts/api.ts";
import { z } from "../../contracts/zod.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { jsonContent } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const Health = z
  .object({
    ok: z.literal(true),
    environment: z.enum(["development", "production"]),
    time: z.string(),
    /** The region directory as this isolate sees it. */
    regions: z.array(
      z.object({
        name: z.string(),
        health: RouteCandidate.shape.state,
        last_heartbeat_at: z.string().nullable(),
        queue_depth: z
          .object({ fast: z.number(), standard: z.number(), relax: z.number() })
          .nullable(),
        warm_models: z.array(z.string()),
      }),
    ),
  })
  .openapi("Health");

const healthRoute = createRoute({
  operationId: "getHealth",
  method: "get",
  path: "/healthz",
  summary: "Liveness, and the regions as this edge sees them",
  tags: ["Operations"],
  security: [],
  responses: { 200: jsonContent(Health, "The edge answers.") },
});

/** GET /healthz: the process answers; region health as this isolate sees it. No I/O. */
export function healthRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  app.openapi(healthRoute, (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        ok: true as const,
        environment: s.environment,
        time: new Date(s.clock()).toISOString(),
        regions: s.directory.describe(),
      },
      200,
    );
  });
  return app;
}
