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
    created_at: z.string(),
    /**
     * After a rotation: until when the secret it replaced still signs too (each message then
     * carries both signatures, space-separated); null when only this one signs.
     */
    previous_expires_at: z.string().nullable(),
  })
  .openapi("WebhookSecret");
export type WebhookSecret = z.infer<typeof WebhookSecret>;

/** 7 days: the longest a rotated-out secret may keep signing. */
export const MAX_WEBHOOK_SECRET_OVERLAP_S = 7 * 86_400;

export const RotateWebhookSecretRequest = z
  .strictObject({
    /** How long the current secret keeps signing beside the new one (default 24 h; 0: stop now). */
    overlap_s: z.number().int().min(0).max(MAX_WEBHOOK_SECRET_OVERLAP_S).default(86_400),
  })
  .openapi("RotateWebhookSecretRequest");
