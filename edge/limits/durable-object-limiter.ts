import { LIMITER_PATHS } from "./account-limiter-object.ts";
import {
  AdmitDecision,
  type AccountLimiter,
  type AdmitRequest,
  type ReleaseRequest,
} from "./limiter-protocol.ts";

/** The parts of a DurableObjectNamespace used here (structural: no Workers types needed). */
export interface LimiterNamespace<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

// The stub's URL host is never resolved: the request goes to the object, not over the network.
const ORIGIN = "https://account-limiter";

/** AccountLimiter on Workers: each account's calls go to its own Durable Object. */
export class DurableObjectAccountLimiter implements AccountLimiter {
  readonly #namespace: LimiterNamespace;

  constructor(namespace: LimiterNamespace) {
    this.#namespace = namespace;
  }

  async admit(accountId: string, request: AdmitRequest): Promise<AdmitDecision> {
    return AdmitDecision.parse(await this.#call(accountId, LIMITER_PATHS.admit, request));
  }

  async release(accountId: string, request: ReleaseRequest): Promise<void> {
    await this.#call(accountId, LIMITER_PATHS.release, request);
  }

  async #call(accountId: string, path: string, body: unknown): Promise<unknown> {
    // A stub belongs to the request that made it: get one per call (cheap, no I/O).
    const stub = this.#namespace.get(this.#namespace.idFromName(accountId));
    const res = await stub.fetch(ORIGIN + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      throw new Error(
        `account limiter answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
      );
    }
    return res.json();
  }
}
