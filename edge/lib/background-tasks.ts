import { settleWithin } from "../../contracts/settle-within.ts";

/**
 * Work that outlives its request (cache fills, heartbeat writes) on runtimes without
 * ctx.waitUntil: tracked so a graceful shutdown can let it finish.
 */
export class BackgroundTasks {
  readonly #pending = new Set<Promise<unknown>>();

  readonly add = (work: Promise<unknown>): void => {
    const tracked = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  };

  get size(): number {
    return this.#pending.size;
  }

  /** Resolves when all tracked work has settled, or after `timeoutMs`; true if everything settled. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.#pending.size > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await settleWithin(Promise.all(this.#pending), left);
    }
    return true;
  }
}
