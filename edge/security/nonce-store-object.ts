// The Durable Object behind NonceStore on Workers (wrangler.toml binding REPLAY_GUARD): one
// instance per region (named by it) remembers that region's accepted signatures in its SQLite
// storage, so a captured event or heartbeat is refused in every isolate and colo, and after the
// object restarts. Each row stays until its signature could no longer verify; an alarm deletes
// the expired ones.

/** The parts of workerd's DurableObjectState used here (structural: no Workers types needed). */
export interface NonceObjectState {
  storage: {
    sql: {
      exec(
        query: string,
        ...bindings: unknown[]
      ): { rowsWritten: number; toArray(): Record<string, unknown>[] };
    };
    getAlarm(): Promise<number | null>;
    setAlarm(at: number): Promise<void>;
  };
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

export const NONCE_PATH = "/first-sighting";
const SWEEP_EVERY_MS = 60_000;

export class NonceStoreObject {
  readonly #state: NonceObjectState;

  constructor(state: NonceObjectState, _env: unknown) {
    this.#state = state;
    state.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS seen (mac TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
    );
  }

  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== NONCE_PATH) {
      return new Response(null, { status: 404 });
    }
    const body = (await request.json().catch(() => null)) as {
      mac?: unknown;
      expiresAt?: unknown;
    } | null;
    if (typeof body?.mac !== "string" || typeof body.expiresAt !== "number") {
      return Response.json({ error: "expected { mac, expiresAt }" }, { status: 400 });
    }
    const now = Date.now();
    // Inserted, or an expired row taken over: a first sighting. A live row: a replay.
    const { rowsWritten } = this.#state.storage.sql.exec(
      `INSERT INTO seen (mac, expires_at) VALUES (?, ?)
       ON CONFLICT (mac) DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at < ?`,
      body.mac,
      body.expiresAt,
      now,
    );
    if ((await this.#state.storage.getAlarm()) === null) {
      await this.#state.storage.setAlarm(now + SWEEP_EVERY_MS);
    }
    return Response.json({ first: rowsWritten > 0 });
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    this.#state.storage.sql.exec("DELETE FROM seen WHERE expires_at < ?", now);
    const left = this.#state.storage.sql.exec("SELECT 1 FROM seen LIMIT 1").toArray().length;
    if (left > 0) await this.#state.storage.setAlarm(now + SWEEP_EVERY_MS);
  }
}
