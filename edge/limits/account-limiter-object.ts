import { AccountLimits, AccountState } from "./account-limits.ts";
import { AdmitRequest, ReleaseRequest } from "./limiter-protocol.ts";

// The Durable Object behind AccountLimiter on Workers: one instance per account (named by the
// account id) holds its counters, so every isolate in every colo admits against the same state.
// A Durable Object runs one event at a time and each call below finishes without awaiting before
// its state change, so concurrent admissions are applied one after the other: limits are exact.

/** The parts of workerd's DurableObjectState used here (structural: no Workers types needed). */
export interface LimiterObjectState {
  storage: {
    get(key: string): Promise<unknown>;
    put(key: string, value: unknown): Promise<void>;
  };
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

export const LIMITER_PATHS = { admit: "/admit", release: "/release" } as const;

const STATE_KEY = "limits";

export class AccountLimiterObject {
  readonly #state: LimiterObjectState;
  #limits = new AccountLimits();

  constructor(state: LimiterObjectState, _env: unknown) {
    this.#state = state;
    void state.blockConcurrencyWhile(async () => {
      const saved = AccountState.safeParse(await state.storage.get(STATE_KEY));
      if (saved.success) this.#limits = new AccountLimits(saved.data);
    });
  }

  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST") return new Response(null, { status: 405 });
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: "body must be JSON" }, { status: 400 });
    }
    const now = Date.now();
    let answer: unknown;
    let changed: boolean;
    if (pathname === LIMITER_PATHS.admit) {
      const parsed = AdmitRequest.safeParse(body);
      if (!parsed.success) return Response.json({ error: parsed.error.message }, { status: 400 });
      const decision = this.#limits.admit(parsed.data, now);
      answer = decision;
      changed = decision.outcome !== "unsynced";
    } else if (pathname === LIMITER_PATHS.release) {
      const parsed = ReleaseRequest.safeParse(body);
      if (!parsed.success) return Response.json({ error: parsed.error.message }, { status: 400 });
      changed = this.#limits.release(parsed.data, now);
      answer = { ok: true, changed };
    } else {
      return new Response(null, { status: 404 });
    }
    // The output gate holds the answer until this write is durable.
    if (changed) await this.#state.storage.put(STATE_KEY, this.#limits.state);
    return Response.json(answer);
  }
}
