import { z } from "./zod.ts";
import { Generation, WebhookEvent } from "./api.ts";

// Webhooks of a generation (Standard Webhooks: https://www.standardwebhooks.com). Each terminal
// event a request asked for (`webhook.events`, default all) is one message, POSTed as JSON with
// `webhook-id` (the delivery id, the same on every attempt), `webhook-timestamp` (unix seconds of
// the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with the
// account's `whsec_` secret from GET /v1/webhooks/secret; during a secret rotation two signatures,
// space-separated).

export const WebhookPayload = z
  .object({
    /** `generation.succeeded`, `generation.failed`, `generation.blocked`, `generation.canceled`. */
    type: z.string().regex(/^generation\.[a-z]+$/),
    /** When the event happened (the generation's completed_at), not when this attempt was made. */
    timestamp: z.string(),
    data: Generation,
  })
  .openapi("WebhookPayload");
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const WebhookAttempt = z
  .object({
    attempt: z.number().int().positive(),
    at: z.string(),
    /** The receiver's status; null when none came (connection error, timeout, refused target). */
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number(),
  })
  .openapi("WebhookAttempt");

export const WebhookDelivery = z
  .object({
    id: z.string(),
    object: z.literal("webhook_delivery"),
    /** The generation of a generation event; null for account events (`usage.threshold`). */
    generation: z.string().nullable(),
    event: z.enum([...WebhookEvent.options, "usage.threshold"]),
    url: z.string(),
    /** pending: more attempts are scheduled; delivered: a 2xx came back; failed: given up. */
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.array(WebhookAttempt),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = z
  .object({
    object: z.literal("list"),
    data: z.array(WebhookDelivery),
  })
  .openapi("WebhookDeliveryList");

export const WebhookSecret = z
  .object({
    object: z.literal("webhook_secret"),
    /** `whsec_<base64>`: verify `webhook-signature` with it (any Standard Webhooks library). */
    secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/),
  })
  .openapi("WebhookSecret");
