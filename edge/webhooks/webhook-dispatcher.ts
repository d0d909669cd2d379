import { WebhookEvent } from "../../contracts/api.ts";
import { newId } from "../../contracts/ids.ts";
import type { Database, Transaction } from "../../db/client/index.ts";
import {
  claimWebhookAttempt,
  insertWebhookDelivery,
  listDueWebhookDeliveries,
  recordWebhookAttempt,
} from "../../db/queries/webhook-deliveries.ts";
import type { GenerationRow, GenerationWebhook } from "../../db/schema/generations.ts";
import {
  insertCurrentWebhookSecret,
  listSigningWebhookSecrets,
  rotateWebhookSecret,
  updateWebhookSecretSeal,
} from "../../db/queries/webhook-secrets.ts";
import type { WebhookSecretRow } from "../../db/schema/webhook-secrets.ts";
import type { NewWebhookDelivery } from "../../db/schema/webhook-deliveries.ts";
import type { EdgeTuning } from "../tuning.ts";
import type { Log } from "../lib/log.ts";
import { invalidRequest } from "../errors/index.ts";
import { toGeneration } from "../generations/serialize.ts";
import { describeError } from "../lib/describe-error.ts";
import type { AccountWebhooks } from "../limits/budgets.ts";
import type { GenerationWebhooks } from "./generation-webhooks.ts";
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from "./retry-policy.ts";
import { sendWebhook } from "./send-webhook.ts";
import { WebhookSecretBox, type SecretsKeySet } from "./secret-box.ts";
import { newWebhookSecret } from "./signing.ts";
import { refusedTarget, type Environment } from "./target-policy.ts";

export interface WebhookDispatcherOptions {
  db: Database;
  /** Used for deliveries only; Node passes one that re-checks resolved addresses (SSRF). */
  fetch: typeof fetch;
  /** The keys the accounts' `whsec_` secrets are stored under (secret-box.ts). */
  secretsKeys: SecretsKeySet;
  /** For the output URL inside the payload. */
  assetUrlSecret: string;
  assetUrlTtlS?: number;
  environment: Environment;
  clock?: () => number;
  log: Log;
  /** Keeps a background attempt alive (Workers' waitUntil; tracked promises elsewhere). */
  waitUntil: (work: Promise<unknown>) => void;
  /**
   * timers: later attempts are scheduled in this process (Node, Deno), and `start()` resumes
   * what a previous process left pending. external: this isolate only makes first attempts; later
   * ones are sent by `deliverDue()` from a scheduled job (Workers' cron trigger).
   */
  retries: "timers" | "external";
  policy?: Partial<RetryPolicy>;
  /** Per attempt; the spec recommends 15 to 30 s. */
  timeoutMs?: number;
  random?: () => number;
}

/** The dispatcher's options that EdgeTuning sets. */
export function webhookTuning(
  t: Pick<
    EdgeTuning,
    | "webhookMaxAttempts"
    | "webhookRetryBaseMs"
    | "webhookRetryMaxMs"
    | "webhookTimeoutMs"
    | "assetUrlTtlS"
  >,
): Pick<WebhookDispatcherOptions, "policy" | "timeoutMs" | "assetUrlTtlS"> {
  return {
    policy: {
      maxAttempts: t.webhookMaxAttempts,
      baseDelayMs: t.webhookRetryBaseMs,
      maxDelayMs: t.webhookRetryMaxMs,
    },
    timeoutMs: t.webhookTimeoutMs,
    assetUrlTtlS: t.assetUrlTtlS,
  };
}

// An attempt's claim outlives its timeout by this much before another sender may take it over.
const LEASE_MARGIN_MS = 5_000;

/**
 * Standard Webhooks delivery of generations' terminal events: recorded in webhook_deliveries
 * before anything is sent, first attempt in the background, retried with backoff and jitter,
 * every attempt appended to the row.
 */
export class WebhookDispatcher implements GenerationWebhooks, AccountWebhooks {
  readonly #o: WebhookDispatcherOptions;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #box: WebhookSecretBox;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #scanTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(opts: WebhookDispatcherOptions) {
    this.#o = opts;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#clock = opts.clock ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#box = new WebhookSecretBox(opts.secretsKeys);
  }

  checkTarget(webhook: GenerationWebhook | undefined): void {
    if (!webhook) return;
    const reason = refusedTarget(webhook.url, this.#o.environment);
    if (reason)
      throw invalidRequest("invalid_webhook_url", `webhook.url refused: ${reason}`, "webhook.url");
  }

  /**
   * The account's current `whsec_` secret (made on first use), and until when the one it
   * replaced still signs (null: none does).
   */
  async secretFor(
    accountId: string,
  ): Promise<{ secret: string; createdAt: Date; previousExpiresAt: Date | null }> {
    const now = new Date(this.#clock());
    let rows = await listSigningWebhookSecrets(this.#o.db, accountId, now);
    if (!rows.some((r) => r.expiresAt === null)) {
      const sealed = await this.#box.seal(newWebhookSecret(), accountId);
      await insertCurrentWebhookSecret(this.#o.db, { accountId, ...sealed, createdAt: now });
      rows = await listSigningWebhookSecrets(this.#o.db, accountId, now);
    }
    return this.#describe(accountId, rows);
  }

  /**
   * A new current secret for the account; the old one keeps signing (both signatures on every
   * message) for `overlapMs`, so receivers can switch without losing a message.
   */
  async rotateSecret(
    accountId: string,
    overlapMs: number,
  ): Promise<{ secret: string; createdAt: Date; previousExpiresAt: Date | null }> {
    const now = this.#clock();
    const sealed = await this.#box.seal(newWebhookSecret(), accountId);
    await rotateWebhookSecret(
      this.#o.db,
      { accountId, ...sealed, createdAt: new Date(now) },
      new Date(now + overlapMs),
      new Date(now),
    );
    return this.#describe(
      accountId,
      await listSigningWebhookSecrets(this.#o.db, accountId, new Date(now)),
    );
  }

  /**
   * The plaintext of a row; one sealed under the previous WEBHOOK_SECRETS_KEY is resealed under
   * the current one as it is read, so a rotation of that key completes as accounts are used.
   */
  async #open(row: WebhookSecretRow, accountId: string): Promise<string> {
    const plain = await this.#box.open(row, accountId);
    if (row.keyId !== this.#box.currentKeyId) {
      const resealed = await this.#box.seal(plain, accountId);
      await updateWebhookSecretSeal(this.#o.db, row.id, resealed);
    }
    return plain;
  }

  async #describe(accountId: string, rows: WebhookSecretRow[]) {
    const current = rows.find((r) => r.expiresAt === null)!;
    const previous = rows.filter((r) => r.expiresAt !== null).at(-1);
    return {
      secret: await this.#open(current, accountId),
      createdAt: current.createdAt,
      previousExpiresAt: previous?.expiresAt ?? null,
    };
  }

  async draft(
    row: GenerationRow,
    callbackBase: string,
  ): Promise<(NewWebhookDelivery & { id: string }) | null> {
    const event = WebhookEvent.safeParse(row.status);
    if (!row.webhook || !event.success) return null;
    if (!(row.webhook.events ?? WebhookEvent.options).includes(event.data)) return null;
    const now = this.#clock();
    const data = await toGeneration(row, {
      baseUrl: callbackBase,
      assetUrlSecret: this.#o.assetUrlSecret,
      assetUrlTtlS: this.#o.assetUrlTtlS,
      now,
    });
    const body = JSON.stringify({
      type: `generation.${event.data}`,
      timestamp: (row.completedAt ?? new Date(now)).toISOString(),
      data,
    });
    // A pending row is due at once: if this process dies before `send`, a sweep or restart sends it.
    return {
      id: newId("webhookDelivery"),
      generationId: row.id,
      event: event.data,
      url: row.webhook.url,
      body,
      nextAttemptAt: new Date(now),
      createdAt: new Date(now),
    };
  }

  async record(
    tx: Database | Transaction,
    row: GenerationRow,
    callbackBase: string,
  ): Promise<string | null> {
    const message = await this.draft(row, callbackBase);
    if (!message) return null;
    const created = await insertWebhookDelivery(tx, message);
    return created?.id ?? null;
  }

  /**
   * Records an account event (a budget's `usage.threshold`) through `tx`, signed with the account's
   * secret when sent. Returns the delivery to `send` after the commit.
   */
  async recordAccountEvent(
    tx: Database | Transaction,
    event: { accountId: string; event: "usage.threshold"; url: string; body: string },
  ): Promise<string | null> {
    const now = new Date(this.#clock());
    const created = await insertWebhookDelivery(tx, {
      accountId: event.accountId,
      event: event.event,
      url: event.url,
      body: event.body,
      nextAttemptAt: now,
      createdAt: now,
    });
    return created?.id ?? null;
  }

  send(deliveryIds: readonly string[]): void {
    for (const id of deliveryIds) this.#o.waitUntil(this.deliver(id));
  }

  async generationEnded(row: GenerationRow, callbackBase: string): Promise<void> {
    try {
      const id = await this.record(this.#o.db, row, callbackBase);
      if (id) this.send([id]);
    } catch (err) {
      this.#o.log({
        level: "error",
        msg: "webhook not recorded",
        generation_id: row.id,
        error: describeError(err),
      });
    }
  }

  /**
   * Makes the delivery's next attempt if it is due and nobody else is making it; records the
   * outcome and schedules the attempt after (timers mode). Never throws.
   */
  async deliver(id: string): Promise<void> {
    try {
      await this.#attempt(id);
    } catch (err) {
      this.#o.log({
        level: "error",
        msg: "webhook attempt failed",
        delivery_id: id,
        error: describeError(err),
      });
    }
  }

  async #attempt(id: string): Promise<void> {
    const { db } = this.#o;
    const now = this.#clock();
    const claimed = await claimWebhookAttempt(
      db,
      id,
      new Date(now),
      new Date(now + this.#timeoutMs + LEASE_MARGIN_MS),
    );
    if (!claimed) return;
    const refused = refusedTarget(claimed.url, this.#o.environment);
    const outcome = refused
      ? {
          delivered: false,
          gone: true,
          statusCode: null,
          error: `target refused: ${refused}`,
          retryAfterMs: null,
          durationMs: 0,
        }
      : await sendWebhook(claimed, {
          fetch: this.#o.fetch,
          secrets: await this.#secrets(claimed.accountId),
          timeoutMs: this.#timeoutMs,
          now: this.#clock,
        });
    const finished = this.#clock();
    const delay =
      outcome.delivered || outcome.gone
        ? null
        : retryDelayMs(claimed.attempt, this.#policy, this.#random(), outcome.retryAfterMs);
    const nextAttemptAt = delay === null ? null : new Date(finished + delay);
    await recordWebhookAttempt(db, id, claimed.attempt, {
      record: {
        attempt: claimed.attempt,
        at: new Date(now).toISOString(),
        status_code: outcome.statusCode,
        error: outcome.error,
        duration_ms: outcome.durationMs,
      },
      deliveredAt: outcome.delivered ? new Date(finished) : null,
      nextAttemptAt,
    });
    this.#o.log({
      level: outcome.delivered ? "info" : "warn",
      msg: outcome.delivered
        ? "webhook delivered"
        : nextAttemptAt
          ? "webhook attempt failed, will retry"
          : "webhook given up",
      delivery_id: id,
      generation_id: claimed.generationId,
      attempt: claimed.attempt,
      status_code: outcome.statusCode,
    });
    if (nextAttemptAt) this.#schedule(id, nextAttemptAt.getTime());
  }

  /** The secrets that sign now: the current one (made on first use) and one in its overlap. */
  async #secrets(accountId: string): Promise<string[]> {
    const now = new Date(this.#clock());
    let rows = await listSigningWebhookSecrets(this.#o.db, accountId, now);
    if (!rows.some((r) => r.expiresAt === null)) {
      await this.secretFor(accountId);
      rows = await listSigningWebhookSecrets(this.#o.db, accountId, now);
    }
    return Promise.all(rows.map((r) => this.#open(r, accountId)));
  }

  #schedule(id: string, at: number): void {
    if (this.#o.retries !== "timers" || this.#stopped) return;
    clearTimeout(this.#timers.get(id));
    const timer = setTimeout(
      () => {
        this.#timers.delete(id);
        if (this.#stopped) return;
        // Timers count from the event loop's cached time, which lags the wall clock after a long
        // turn: one can fire before `at`, when the claim would find the attempt not yet due.
        if (this.#clock() < at) return this.#schedule(id, at);
        this.#o.waitUntil(this.deliver(id));
      },
      Math.max(0, at - this.#clock()),
    );
    // A pending retry never keeps a process alive: the row is the record, a restart resumes it.
    (timer as { unref?: () => void }).unref?.();
    this.#timers.set(id, timer);
  }

  /**
   * Sends every attempt that is due now, `limit` at most (oldest first). The durable retry path
   * where no timer survives between requests: call it from a scheduled job. Returns how many it tried.
   */
  async deliverDue(limit = 100): Promise<number> {
    const due = await listDueWebhookDeliveries(this.#o.db, new Date(this.#clock()), limit);
    await Promise.all(due.map((d) => this.deliver(d.id)));
    return due.length;
  }

  /**
   * Timers mode: schedules the pending deliveries in the database (a restart resumes them), and
   * looks again every `scanIntervalMs` for ones another process left behind.
   */
  start(scanIntervalMs = 30_000): void {
    if (this.#o.retries !== "timers" || this.#scanTimer) return;
    const scan = async () => {
      try {
        const horizon = new Date(this.#clock() + scanIntervalMs);
        for (const d of await listDueWebhookDeliveries(this.#o.db, horizon, 1_000)) {
          if (!this.#timers.has(d.id)) this.#schedule(d.id, d.nextAttemptAt!.getTime());
        }
      } catch (err) {
        this.#o.log({ level: "error", msg: "webhook scan failed", error: describeError(err) });
      }
    };
    this.#o.waitUntil(scan());
    this.#scanTimer = setInterval(() => this.#o.waitUntil(scan()), scanIntervalMs);
    (this.#scanTimer as { unref?: () => void }).unref?.();
  }

  /** Cancels scheduled attempts (their rows stay pending for the next start). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#scanTimer);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Attempts scheduled in this process (for tests and metrics). */
  get scheduled(): number {
    return this.#timers.size;
  }
}
