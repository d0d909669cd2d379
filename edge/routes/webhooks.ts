import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  RotateWebhookSecretRequest,
  WebhookDeliveryList,
  WebhookSecret,
  type WebhookDelivery,
  type WebhookSecret as WebhookSecretBody,
} from "../../contracts/webhooks.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
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

// The body is declared by reference: jsonBody reads it (an empty body is `{}`).
const rotateSecretRoute = createRoute({
  operationId: "rotateWebhookSecret",
  method: "post",
  path: "/webhooks/secret/rotate",
  summary: "Rotate the webhook signing secret",
  description:
    "Makes a new random `whsec_` secret the account's current one. The one it replaces keeps signing for `overlap_s` (default 24 h): every message then carries both signatures, space-separated, so receivers switch without losing a message.",
  tags: ["Webhooks"],
  // It changes the credential receivers verify with: an admin's key, as for API keys.
  security: requiresScope("keys:admin"),
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: { $ref: "#/components/schemas/RotateWebhookSecretRequest" },
        },
      },
    },
  },
  responses: {
    200: jsonContent(WebhookSecret, "The new secret."),
    ...errorResponses(400, 401),
  },
});

/** GET /v1/generations/:id/webhook_deliveries and GET /v1/webhooks/secret. */
export function webhookRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);

  app.openapi({ ...deliveriesRoute, middleware: guard(deliveriesRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await ownGeneration(s.db, c.var.caller.account.id, id);
    const deliveries = await listWebhookDeliveries(s.db, row.id);
    return c.json({ object: "list" as const, data: deliveries.map(toWebhookDelivery) }, 200);
  });

  // The account's signing secret, to verify `webhook-signature` with.
  app.openapi({ ...secretRoute, middleware: guard(secretRoute) }, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(toWebhookSecret(await s.webhooks.secretFor(c.var.caller.account.id)), 200);
  });

  app.openAPIRegistry.register("RotateWebhookSecretRequest", RotateWebhookSecretRequest);
  app.openapi(
    {
      ...rotateSecretRoute,
      middleware: [
        ...guard(rotateSecretRoute),
        jsonBody({
          schema: RotateWebhookSecretRequest,
          maxBytes: s.tuning.maxBodyBytes,
          emptyIsObject: true,
        }),
      ] as const,
    },
    async (c) => {
      c.header("Cache-Control", "no-store");
      const rotated = await s.webhooks.rotateSecret(
        c.var.caller.account.id,
        c.var.body.overlap_s * 1000,
      );
      return c.json(toWebhookSecret(rotated), 200);
    },
  );

  return app;
}

function toWebhookSecret(s: {
  secret: string;
  createdAt: Date;
  previousExpiresAt: Date | null;
}): WebhookSecretBody {
  return {
    object: "webhook_secret",
    secret: s.secret,
    created_at: s.createdAt.toISOString(),
    previous_expires_at: s.previousExpiresAt?.toISOString() ?? null,
  };
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
