import { Hono } from "hono";
import { hasPrefix } from "../../contracts/ids.ts";
import type { WebhookDelivery } from "../../contracts/webhooks.ts";
import { getGenerationForAccount } from "../../db/queries/generations.ts";
import { listWebhookDeliveries } from "../../db/queries/webhook-deliveries.ts";
import type { WebhookDelivery as DeliveryRow } from "../../db/schema/webhook-deliveries.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { notFound } from "../errors/index.ts";
import { auth } from "../middleware/auth/index.ts";

/** GET /v1/generations/:id/webhook_deliveries and GET /v1/webhooks/secret. */
export function webhookRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const requireKey = auth({ authenticator: s.authenticator });

  app.get("/generations/:id/webhook_deliveries", requireKey, async (c) => {
    const id = c.req.param("id");
    const row = hasPrefix(id, "generation")
      ? await getGenerationForAccount(s.db, c.var.caller.account.id, id)
      : null;
    if (!row) throw notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");
    const deliveries = await listWebhookDeliveries(s.db, row.id);
    return c.json({ object: "list" as const, data: deliveries.map(toWebhookDelivery) });
  });

  // The account's signing secret, to verify `webhook-signature` with.
  app.get("/webhooks/secret", requireKey, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({
      object: "webhook_secret" as const,
      secret: await s.webhooks.secretFor(c.var.caller.account.id),
    });
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
