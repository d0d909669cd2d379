/**
 * In-process wake-ups for requests holding a response open (`Prefer: wait`) on a generation. Only
 * an optimisation: an event applied in another isolate or process never reaches it, so waiters also
 * poll the database (see waitForTerminal).
 */
export class GenerationNotifier {
  readonly #waiters = new Map<string, Set<() => void>>();

  notify(generationId: string): void {
    const waiters = this.#waiters.get(generationId);
    if (!waiters) return;
    this.#waiters.delete(generationId);
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify for `generationId`, or after `timeoutMs`. */
  next(generationId: string, timeoutMs: number): Promise<"notified" | "timeout"> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(generationId);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(generationId, waiters);
      }
      const wake = () => {
        clearTimeout(timer);
        resolve("notified");
      };
      const timer = setTimeout(
        () => {
          const current = this.#waiters.get(generationId);
          current?.delete(wake);
          if (current?.size === 0) this.#waiters.delete(generationId);
          resolve("timeout");
        },
        Math.max(0, timeoutMs),
      );
      waiters.add(wake);
    });
  }

  /** Number of generations someone is waiting on (for tests and metrics). */
  get size(): number {
    return this.#waiters.size;
  }
}
