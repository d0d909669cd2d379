import type { GenerationRow, GenerationWebhook } from "../../db/schema/generations.ts";

/** What the generation flow needs from webhooks (WebhookDispatcher implements it). */
export interface GenerationWebhooks {
  /** Throws 400 invalid_request_error for a target this deployment must not call (SSRF). */
  checkTarget(webhook: GenerationWebhook | undefined): void;
  /**
   * The generation reached a terminal state: when it asked for this event, its delivery is
   * recorded (durably, before this resolves) and sent in the background. Idempotent; never
   * throws (failures are logged).
   */
  generationEnded(row: GenerationRow, callbackBase: string): Promise<void>;
}
