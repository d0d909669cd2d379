import { DEFAULT_TOLERANCE_S } from "../../contracts/signing.ts";
import type { NonceStore } from "../../contracts/replay-guard.ts";
import { NONCE_PATH } from "./nonce-store-object.ts";

/** The parts of a DurableObjectNamespace used here (structural: no Workers types needed). */
export interface NonceNamespace<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

// The stub's URL host is never resolved: the request goes to the object, not over the network.
const ORIGIN = "https://replay-guard";

/** NonceStore on Workers: each region's signatures go to its own Durable Object. */
export class DurableObjectNonceStore implements NonceStore {
  readonly #namespace: NonceNamespace;
  readonly #toleranceMs: number;

  constructor(namespace: NonceNamespace, toleranceS = DEFAULT_TOLERANCE_S) {
    this.#namespace = namespace;
    this.#toleranceMs = toleranceS * 1000;
  }

  async firstSighting(scope: string, mac: string, signedAt: number): Promise<boolean> {
    // A stub belongs to the request that made it: get one per call (cheap, no I/O).
    const stub = this.#namespace.get(this.#namespace.idFromName(scope));
    const res = await stub.fetch(ORIGIN + NONCE_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mac, expiresAt: signedAt + this.#toleranceMs + 1_000 }),
    });
    if (!res.ok) throw new Error(`replay guard answered ${res.status}`);
    return ((await res.json()) as { first: boolean }).first === true;
  }
}
