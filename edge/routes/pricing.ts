import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PriceList } from "../../contracts/pricing.ts";
import { Priority } from "../../contracts/api.ts";
import { listModels } from "../../db/queries/models.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { estimateGpuMs, jobCostMicrousd, microusdToUsd } from "../generations/pricing.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import { errorResponses, jsonContent, requiresKey } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const pricingRoute = createRoute({
  operationId: "getPricing",
  method: "get",
  path: "/pricing",
  summary: "Prices",
  description:
    'The price table as it applies to the caller: per model version x lane x region, per GPU-second and per output megapixel, with the plan\'s multiplier, and what a 512x512 image costs. A generation is charged its measured GPU time at these prices; failed, blocked, canceled and cached ones cost 0, and test-mode keys are never charged. `"dry_run": true` on POST /v1/generations prices one request.',
  tags: ["Catalog"],
  security: requiresKey,
  responses: { 200: jsonContent(PriceList, "The prices."), ...errorResponses(401) },
});

/** GET /v1/pricing (any key). */
export function pricingRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);

  app.openapi({ ...pricingRoute, middleware: guard(pricingRoute) }, async (c) => {
    const { plan, apiKey } = c.var.caller;
    await s.catalog.rows();
    const regions = s.directory.describe().map((r) => r.name);
    const data = [];
    for (const model of await listModels(s.db)) {
      for (const version of model.versions) {
        if (version.status === "retired") continue;
        for (const lane of Priority.options) {
          for (const region of regions) {
            const price = await s.prices.priceOf({ modelVersionId: version.id, lane, region });
            const gpuMs = estimateGpuMs(version.gpuMsPerMegapixel, 512, 512);
            const example = jobCostMicrousd(
              price,
              { gpuMs, width: 512, height: 512 },
              plan.priceMultiplier,
            );
            data.push({
              object: "price" as const,
              model: model.name,
              model_version: version.version,
              lane,
              region,
              gpu_second_usd: microusdToUsd((price.gpuHourMicrousd * price.multiplier) / 3600),
              megapixel_usd: microusdToUsd(price.megapixelMicrousd * price.multiplier),
              plan_multiplier: plan.priceMultiplier,
              example_512_usd: microusdToUsd(example),
            });
          }
        }
      }
    }
    c.header("Cache-Control", "private, max-age=60");
    return c.json(
      {
        object: "list" as const,
        plan: {
          id: plan.id,
          price_multiplier: plan.priceMultiplier,
          max_cost_per_request_usd:
            plan.maxCostPerRequestMicrousd === null
              ? null
              : microusdToUsd(plan.maxCostPerRequestMicrousd),
          over_cost_cap: plan.overCostCap,
          lanes: plan.lanes,
        },
        livemode: apiKey.mode === "live",
        data,
      },
      200,
    );
  });

  return app;
}
