import type { Database } from "../../../db/client/index.ts";
import {
  API_KEY_PATTERN,
  findApiKeyByHash,
  hashApiKey,
  touchApiKey,
  type ApiKeyLookup,
} from "../../../db/queries/api-keys.ts";
import { ApiError } from "../../errors/index.ts";

/** The authenticated caller: the key, its account and the account's plan. */
export type Caller = ApiKeyLookup;

export interface ApiKeyAuthenticatorOptions {
  db: Database;
  pepper?: string;
  clock?: () => number;
  /**
   * How long a lookup (found, revoked or unknown) is reused in this isolate. A revoked key keeps
   * working here for at most this long after revocation.
   */
  cacheTtlMs?: number;
  /** Bound on cached lookups; the oldest entry goes first. */
  cacheMaxEntries?: number;
  /** Runs background work (last_used_at writes) without holding the response. */
  waitUntil?: (work: Promise<unknown>) => void;
}

interface Entry {
  lookup: Promise<ApiKeyLookup | null>;
  expiresAt: number;
}

const unauthenticated = (code: string, message: string) =>
  new ApiError({ type: "authentication_error", code, message });

/** Bearer-key authentication with a brief, bounded, single-flight lookup cache. */
export class ApiKeyAuthenticator {
  readonly #db: Database;
  readonly #pepper: string | undefined;
  readonly #clock: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #waitUntil: (work: Promise<unknown>) => void;
  readonly #cache = new Map<string, Entry>();

  constructor(opts: ApiKeyAuthenticatorOptions) {
    this.#db = opts.db;
    this.#pepper = opts.pepper;
    this.#clock = opts.clock ?? Date.now;
    this.#ttlMs = opts.cacheTtlMs ?? 30_000;
    this.#maxEntries = opts.cacheMaxEntries ?? 10_000;
    this.#waitUntil = opts.waitUntil ?? ((work) => void work.catch(() => {}));
  }

  /** The caller for an `Authorization` header value; a 401 ApiError (distinct codes) otherwise. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (authorization === undefined || authorization.trim() === "") {
      throw unauthenticated(
        "missing_api_key",
        "no API key: send 'Authorization: Bearer gk_live_...'",
      );
    }
    const m = /^Bearer +(\S+)\s*$/i.exec(authorization.trim());
    if (!m || !API_KEY_PATTERN.test(m[1]!)) {
      throw unauthenticated(
        "malformed_api_key",
        "the Authorization header must be 'Bearer gk_live_<key>' or 'Bearer gk_test_<key>'",
      );
    }
    const hash = await hashApiKey(m[1]!, this.#pepper);
    const lookup = await this.#lookup(hash);
    if (!lookup) throw unauthenticated("invalid_api_key", "the API key is not valid");
    const { revokedAt } = lookup.apiKey;
    if (revokedAt !== null && revokedAt.getTime() <= this.#clock()) {
      throw unauthenticated("revoked_api_key", "the API key has been revoked");
    }
    return lookup;
  }

  #lookup(hash: string): Promise<ApiKeyLookup | null> {
    const now = this.#clock();
    const cached = this.#cache.get(hash);
    if (cached && cached.expiresAt > now) return cached.lookup;
    this.#cache.delete(hash);
    const lookup = findApiKeyByHash(this.#db, hash);
    this.#cache.set(hash, { lookup, expiresAt: now + this.#ttlMs });
    // A failed lookup (database down) must not be remembered.
    lookup.then(
      (found) => {
        if (found && found.apiKey.revokedAt === null) {
          this.#waitUntil(touchApiKey(this.#db, found.apiKey.id, { at: new Date(this.#clock()) }));
        }
      },
      () => this.#cache.delete(hash),
    );
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return lookup;
  }
}
