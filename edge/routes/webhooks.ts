import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  WebhookDeliveryList,
  WebhookSecret,
  type WebhookDelivery,
} from "../../contracts/webhooks.ts";
import { listWebhookDeliveries } from "../../db/queries/webhook-deliveries.ts";
import type { WebhookDelivery as DeliveryRow } from "../../db/schema/webhook-deliveries.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { ownGeneration } from "../generations/own-generation.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  GenerationIdParams,
  jsonContent,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const deliveriesRoute = createRoute({
  operationId: "listWebhookDeliveries",
  method: "get",
  path: "/generations/{id}/webhook_deliveries",
  summary: "List a generation's webhook deliveries",
  description: "Every delivery of the generation's webhook events, with each attempt's outcome.",
  tags: ["Webhooks"],
  security: requiresScope("generations:read"),
  request: { params: GenerationIdParams },
  responses: {
    200: jsonContent(WebhookDeliveryList, "The deliveries, oldest first."),
    ...errorResponses(401, 404),
  },
});

const secretRoute = createRoute({
  operationId: "getWebhookSecret",
  method: "get",
  path: "/webhooks/secret",
  summary: "Get the webhook signing secret",
  description:
    "The account's `whsec_` secret: verify `webhook-signature` with any Standard Webhooks library.",
  tags: ["Webhooks"],
  security: requiresScope("generations:read"),
  responses: { 200: jsonContent(WebhookSecret, "The secret."), ...errorResponses(401) },
});

/** GET /v1/generations/:id/webhook_deliveries and GET /v1/webhooks/secret. */
export function webhookRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.authenticator);

  app.openapi({ ...deliveriesRoute, middleware: guard(deliveriesRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await ownGeneration(s.db, c.var.caller.account.id, id);
    const deliveries = await listWebhookDeliveries(s.db, row.id);
    return c.json({ object: "list" as const, data: deliveries.map(toWebhookDelivery) }, 200);
  });

  // The account's signing secret, to verify `webhook-signature` with.
  app.openapi({ ...secretRoute, middleware: guard(secretRoute) }, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        object: "webhook_secret" as const,
        secret: await s.webhooks.secretFor(c.var.caller.account.id),
      },
      200,
    );
  });

  return app;
}

export function toWebhookDelivery(row: DeliveryRow): WebhookDelivery {
  const status = row.deliveredAt ? "delivered" : row.nextAttemptAt ? "pending" : "failed";
  return {
    id: row.id,
    object: "webhook_delivery",
    generation: row.generationId,
    event: row.event,
    url: row.url,
    status,
    attempts: row.attempts,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}
