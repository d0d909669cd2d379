import { check, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { WebhookEvent } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import { createdAt, nonEmpty, oneOf, timestamptz } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { generations } from "./generations.ts";

/** A generation's terminal events, and account events (a budget's threshold crossed). */
export const DELIVERY_EVENTS = [...WebhookEvent.options, "usage.threshold"] as const;
export type DeliveryEvent = (typeof DELIVERY_EVENTS)[number];

/** One attempt to deliver a webhook, as kept in `attempts` (newest last). */
export type WebhookAttempt = {
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
};

/**
 * One row per webhook message (a generation's terminal event): its id is the `webhook-id` the
 * receiver sees on every attempt; retried until delivered or given up.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("webhookDelivery")),
    /** The generation of a generation event; null for account events. */
    generationId: text("generation_id").references(() => generations.id, { onDelete: "cascade" }),
    /** The account of an account event (whose secret signs it); null: the generation's account. */
    accountId: text("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    event: text("event", { enum: nonEmpty(DELIVERY_EVENTS) }).notNull(),
    url: text("url").notNull(),
    /** The exact JSON sent on every attempt (the signature covers these bytes). */
    body: text("body").notNull(),
    attempt: integer("attempt").notNull().default(0),
    statusCode: integer("status_code"),
    error: text("error"),
    /** Null once delivered or abandoned. */
    nextAttemptAt: timestamptz("next_attempt_at"),
    deliveredAt: timestamptz("delivered_at"),
    /** Every attempt so far, oldest first: what the API shows under webhook_deliveries. */
    attempts: jsonb("attempts").$type<WebhookAttempt[]>().notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [
    // One message per generation and event: recording it again (a repeated finish) is a no-op.
    uniqueIndex("webhook_deliveries_generation_id_event_idx").on(t.generationId, t.event),
    // The retry scanner reads only pending deliveries, oldest due first.
    index("webhook_deliveries_next_attempt_at_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.deliveredAt} is null`),
    check("webhook_deliveries_event_check", oneOf(t.event, DELIVERY_EVENTS)),
    check(
      "webhook_deliveries_owner_check",
      sql`${t.generationId} is not null or ${t.accountId} is not null`,
    ),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;
