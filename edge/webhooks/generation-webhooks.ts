import type { Database, Transaction } from "../../db/client/index.ts";
import type { GenerationRow, GenerationWebhook } from "../../db/schema/generations.ts";
import type { NewWebhookDelivery } from "../../db/schema/webhook-deliveries.ts";

/** What the generation flow needs from webhooks (WebhookDispatcher implements it). */
export interface GenerationWebhooks {
  /** Throws 400 invalid_request_error for a target this deployment must not call (SSRF). */
  checkTarget(webhook: GenerationWebhook | undefined): void;
  /**
   * The message `record` would write for `row` (its id chosen), for a statement that writes the
   * row and its message at once; null when the generation asked for none.
   */
  draft(
    row: GenerationRow,
    callbackBase: string,
  ): Promise<(NewWebhookDelivery & { id: string }) | null>;
  /**
   * Records the message of a generation that reached a terminal state, when it asked for this
   * event, through `tx`: pass the transaction that made the row terminal, so the message exists
   * exactly when the transition committed. Returns the delivery to `send` once committed (null:
   * none asked for, or already recorded). Throws when it cannot record, rolling the transition back.
   */
  record(
    tx: Database | Transaction,
    row: GenerationRow,
    callbackBase: string,
  ): Promise<string | null>;
  /** Starts delivering recorded messages in the background (call after their commit). */
  send(deliveryIds: readonly string[]): void;
  /**
   * `record` then `send` outside any transaction, for a row already terminal. Idempotent; never
   * throws (failures are logged).
   */
  generationEnded(row: GenerationRow, callbackBase: string): Promise<void>;
}
