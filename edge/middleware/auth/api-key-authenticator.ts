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
  /** Bound on cached keys that exist (valid or revoked); the least recently used goes first. */
  cacheMaxEntries?: number;
  /**
   * Bound on cached unknown keys, kept apart: a flood of made-up keys fills this cache only and
   * can never push a valid key out of the other.
   */
  unknownCacheMaxEntries?: number;
  /** Runs background work (last_used_at writes) without holding the response. */
  waitUntil?: (work: Promise<unknown>) => void;
}

interface Entry {
  lookup: ApiKeyLookup;
  expiresAt: number;
  refreshing?: boolean;
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
  readonly #maxUnknown: number;
  readonly #waitUntil: (work: Promise<unknown>) => void;
  /** Keys that exist, by hash. */
  readonly #found = new Map<string, Entry>();
  /** Hashes no key has: when each stops being trusted. */
  readonly #unknown = new Map<string, number>();
  /** Lookups under way (single flight). */
  readonly #inflight = new Map<string, Promise<ApiKeyLookup | null>>();
  /** Counts `forget` calls: a read begun before one is not remembered. */
  #epoch = 0;

  constructor(opts: ApiKeyAuthenticatorOptions) {
    this.#db = opts.db;
    this.#pepper = opts.pepper;
    this.#clock = opts.clock ?? Date.now;
    this.#ttlMs = opts.cacheTtlMs ?? 30_000;
    this.#maxEntries = opts.cacheMaxEntries ?? 10_000;
    this.#maxUnknown = opts.unknownCacheMaxEntries ?? 10_000;
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
    const hash = await this.#hashOf(authorization);
    if (hash === null) {
      throw unauthenticated(
        "malformed_api_key",
        "the Authorization header must be 'Bearer gk_live_<key>' or 'Bearer gk_test_<key>'",
      );
    }
    const lookup = await this.#lookup(hash);
    if (!lookup) throw unauthenticated("invalid_api_key", "the API key is not valid");
    const { revokedAt } = lookup.apiKey;
    if (revokedAt !== null && revokedAt.getTime() <= this.#clock()) {
      throw unauthenticated("revoked_api_key", "the API key has been revoked");
    }
    return lookup;
  }

  /** Whether the header's key is one this isolate has already found (valid or revoked). */
  async knows(authorization: string | undefined): Promise<boolean> {
    const hash = authorization ? await this.#hashOf(authorization) : null;
    const entry = hash === null ? undefined : this.#found.get(hash);
    return entry !== undefined && entry.expiresAt > this.#clock();
  }

  async #hashOf(authorization: string): Promise<string | null> {
    const m = /^Bearer +(\S+)\s*$/i.exec(authorization.trim());
    if (!m || !API_KEY_PATTERN.test(m[1]!)) return null;
    return hashApiKey(m[1]!, this.#pepper);
  }

  async #lookup(hash: string): Promise<ApiKeyLookup | null> {
    const now = this.#clock();
    const found = this.#found.get(hash);
    if (found && found.expiresAt > now) {
      // Past half its life it is read again behind this request: a key in use never waits.
      if (!found.refreshing && found.expiresAt - now <= this.#ttlMs / 2) {
        found.refreshing = true;
        this.#waitUntil(this.#refresh(hash, found, now));
      }
      return found.lookup;
    }
    const unknownUntil = this.#unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > now) return null;
    const pending = this.#inflight.get(hash);
    if (pending) return pending;
    const lookup = findApiKeyByHash(this.#db, hash);
    const epoch = this.#epoch;
    this.#inflight.set(hash, lookup);
    try {
      const result = await lookup;
      // A key forgotten while this read was under way may have changed before it answered.
      if (epoch === this.#epoch) this.#remember(hash, result, now + this.#ttlMs);
      if (result && result.apiKey.revokedAt === null) {
        this.#waitUntil(touchApiKey(this.#db, result.apiKey.id, { at: new Date(this.#clock()) }));
      }
      return result;
    } finally {
      // A failed lookup (database down) is not remembered.
      if (this.#inflight.get(hash) === lookup) this.#inflight.delete(hash);
    }
  }

  async #refresh(hash: string, entry: Entry, at: number): Promise<void> {
    const epoch = this.#epoch;
    try {
      const result = await findApiKeyByHash(this.#db, hash);
      // Forgotten meanwhile (revoked here), or read again: the newer answer stands.
      if (this.#found.get(hash) !== entry || epoch !== this.#epoch) return;
      this.#remember(hash, result, at + this.#ttlMs);
      if (result && result.apiKey.revokedAt === null) {
        await touchApiKey(this.#db, result.apiKey.id, { at: new Date(at) });
      }
    } catch (err) {
      entry.refreshing = false;
      throw err;
    }
  }

  /**
   * After this isolate changed a key (revoked it): the next request with it is looked up at once.
   * Other isolates see the change within `cacheTtlMs`.
   */
  forget(apiKeyId: string): void {
    this.#epoch++;
    this.#inflight.clear();
    for (const [hash, entry] of this.#found) {
      if (entry.lookup.apiKey.id === apiKeyId) this.#found.delete(hash);
    }
  }

  #remember(hash: string, result: ApiKeyLookup | null, expiresAt: number): void {
    const cache: Map<string, unknown> = result ? this.#found : this.#unknown;
    const max = result ? this.#maxEntries : this.#maxUnknown;
    this.#found.delete(hash);
    this.#unknown.delete(hash);
    if (result) this.#found.set(hash, { lookup: result, expiresAt });
    else this.#unknown.set(hash, expiresAt);
    while (cache.size > max) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }
}
