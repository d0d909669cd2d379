import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../client/types.ts";
import { accounts, type Account } from "../schema/accounts.ts";
import { API_KEY_MODES, apiKeys, type ApiKey, type ApiKeyMode } from "../schema/api-keys.ts";
import { plans, type Plan } from "../schema/plans.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 32; // ~190 bits
/** Characters of the secret kept in `prefix` (shown in key lists, useless for guessing). */
const PREFIX_SECRET_CHARS = 4;

export const API_KEY_PATTERN = /^gk_(live|test)_[0-9A-Za-z]{32}$/;
/** Granted when a key is created without explicit scopes: everything the account may do. */
export const ALL_SCOPES = "*";

export function generateApiKey(mode: ApiKeyMode): string {
  let secret = "";
  while (secret.length < SECRET_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(SECRET_LENGTH))) {
      // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += BASE62[byte % 62];
    }
  }
  return `gk_${mode}_${secret}`;
}

/** "gk_live_ab12": the part of a key that lists may show. */
export function apiKeyPrefix(key: string): string {
  const mode = key.startsWith("gk_test_") ? "test" : "live";
  return key.slice(0, `gk_${mode}_`.length + PREFIX_SECRET_CHARS);
}

/**
 * Hex SHA-256 of the key, or HMAC-SHA-256 keyed by `pepper` when one is configured (a leaked table
 * then cannot be checked against guesses without the pepper). WebCrypto: runs on Workers too.
 */
export async function hashApiKey(key: string, pepper?: string): Promise<string> {
  const data = new TextEncoder().encode(key);
  let digest: ArrayBuffer;
  if (pepper === undefined || pepper === "") {
    digest = await crypto.subtle.digest("SHA-256", data);
  } else {
    const hmacKey = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(pepper),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    digest = await crypto.subtle.sign("HMAC", hmacKey, data);
  }
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export const CreateApiKeyInput = z.strictObject({
  accountId: z.string().min(1),
  mode: z.enum(API_KEY_MODES),
  name: z.string().trim().min(1).max(100).optional(),
  scopes: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

/** Creates a key; the plaintext `key` is returned once and never stored. */
export async function createApiKey(
  db: Database,
  input: CreateApiKeyInput,
  pepper?: string,
): Promise<{ key: string; record: ApiKey }> {
  const { accountId, mode, name, scopes } = CreateApiKeyInput.parse(input);
  const key = generateApiKey(mode);
  const [record] = await db
    .insert(apiKeys)
    .values({
      accountId,
      mode,
      name: name ?? null,
      prefix: apiKeyPrefix(key),
      hash: await hashApiKey(key, pepper),
      scopes: scopes ?? [ALL_SCOPES],
    })
    .returning();
  if (!record) throw new Error("insert into api_keys returned no row");
  return { key, record };
}

export type ApiKeyLookup = { apiKey: ApiKey; account: Account; plan: Plan };

/**
 * The key with its account and plan, revoked or not: the caller answers 401 when `revokedAt` is set
 * (and may cache that answer like any other).
 */
export async function findApiKeyByHash(db: Database, hash: string): Promise<ApiKeyLookup | null> {
  const [row] = await db
    .select({ apiKey: apiKeys, account: accounts, plan: plans })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .innerJoin(plans, eq(plans.id, accounts.planId))
    .where(eq(apiKeys.hash, hash));
  return row ?? null;
}

export async function listApiKeys(db: Database, accountId: string): Promise<ApiKey[]> {
  return db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.accountId, accountId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

/** Revokes one of the account's keys (idempotent: the first revocation time is kept). */
export async function revokeApiKey(
  db: Database,
  accountId: string,
  id: string,
  at: Date = new Date(),
): Promise<ApiKey | null> {
  await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)));
  const [key] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId)));
  return key ?? null;
}

/**
 * Records use of a key. Writes at most once per `minIntervalMs` per key, so authenticating every
 * request does not turn into a write per request. Returns whether a write happened.
 */
export async function touchApiKey(
  db: Database,
  id: string,
  { at = new Date(), minIntervalMs = 60_000 }: { at?: Date; minIntervalMs?: number } = {},
): Promise<boolean> {
  const updated = await db
    .update(apiKeys)
    .set({ lastUsedAt: at })
    .where(
      and(
        eq(apiKeys.id, id),
        or(
          isNull(apiKeys.lastUsedAt),
          lt(apiKeys.lastUsedAt, new Date(at.getTime() - minIntervalMs)),
        ),
      ),
    )
    .returning({ id: apiKeys.id });
  return updated.length > 0;
}
