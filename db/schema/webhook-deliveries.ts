import { check, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { WebhookEvent } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import { createdAt, nonEmpty, oneOf, timestamptz } from "./_helpers.ts";
import { generations } from "./generations.ts";

/** One row per delivery attempt chain of a webhook event; retried until delivered or given up. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("webhookDelivery")),
    generationId: text("generation_id")
      .notNull()
      .references(() => generations.id, { onDelete: "cascade" }),
    event: text("event", { enum: nonEmpty(WebhookEvent.options) }).notNull(),
    url: text("url").notNull(),
    attempt: integer("attempt").notNull().default(0),
    statusCode: integer("status_code"),
    error: text("error"),
    /** Null once delivered or abandoned. */
    nextAttemptAt: timestamptz("next_attempt_at"),
    deliveredAt: timestamptz("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_generation_id_idx").on(t.generationId),
    // The retry scanner reads only pending deliveries, oldest due first.
    index("webhook_deliveries_next_attempt_at_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.deliveredAt} is null`),
    check("webhook_deliveries_event_check", oneOf(t.event, WebhookEvent.options)),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;
