/**
 * In-process wake-ups for requests holding a response open on a generation (`Prefer: wait`, SSE).
 * Only an optimisation: an event applied in another isolate or process never reaches it, so
 * watchers also poll the database (see waitForTerminal, streamGenerationEvents).
 *
 * `notify()` never resolves a promise: it only raises a flag that each watcher checks from its own
 * timer. On Workers a promise resolved by another request continues in that request's I/O context,
 * where the waiter's next database query fails ("Cannot perform I/O on behalf of a different
 * request"); a timer always fires in the context of the request that set it.
 */
export class GenerationNotifier {
  readonly #watchers = new Map<string, Set<Flag>>();
  readonly #listeners = new Set<(generationId: string) => void>();
  readonly #checkMs: number;

  /** `checkMs`: how often a waiting watcher looks at its flag (the wake-up latency it adds). */
  constructor(opts: { checkMs?: number } = {}) {
    this.#checkMs = opts.checkMs ?? DEFAULT_CHECK_MS;
  }

  notify(generationId: string): void {
    for (const flag of this.#watchers.get(generationId) ?? []) flag.raised = true;
    for (const listener of this.#listeners) listener(generationId);
  }

  /**
   * Calls `listener` (synchronously, from notify) for every change applied in this isolate: for
   * in-isolate copies of rows that must not outlive a change (the replay cache).
   */
  onChange(listener: (generationId: string) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * Starts watching `generationId`: notifications are remembered from now until `close()`, so none
   * is lost between two waits. Read the row after watching, then wait, then read again.
   */
  watch(generationId: string): GenerationWatch {
    const flag: Flag = { raised: false };
    let flags = this.#watchers.get(generationId);
    if (!flags) this.#watchers.set(generationId, (flags = new Set()));
    flags.add(flag);
    const checkMs = this.#checkMs;
    let closed = false;
    return {
      changed: (timeoutMs) =>
        new Promise((resolve) => {
          const deadline = performance.now() + Math.max(0, timeoutMs);
          const check = () => {
            if (flag.raised || closed) {
              flag.raised = false;
              return resolve(closed ? "timeout" : "notified");
            }
            const left = deadline - performance.now();
            if (left <= 0) return resolve("timeout");
            setTimeout(check, Math.min(checkMs, left));
          };
          check();
        }),
      close: () => {
        if (closed) return;
        closed = true;
        flags.delete(flag);
        if (flags.size === 0 && this.#watchers.get(generationId) === flags) {
          this.#watchers.delete(generationId);
        }
      },
    };
  }

  /** Resolves after the next notify for `generationId` (checked every `checkMs`), or `timeoutMs`. */
  async next(generationId: string, timeoutMs: number): Promise<"notified" | "timeout"> {
    const watch = this.watch(generationId);
    try {
      return await watch.changed(timeoutMs);
    } finally {
      watch.close();
    }
  }

  /** Number of generations someone is watching (for tests and metrics). */
  get size(): number {
    return this.#watchers.size;
  }
}

export interface GenerationWatch {
  /** "notified" once a notify arrived since the last call (or since watch()), else "timeout". */
  changed(timeoutMs: number): Promise<"notified" | "timeout">;
  /** Stops watching; a pending `changed` then resolves "timeout" at its next check. */
  close(): void;
}

interface Flag {
  raised: boolean;
}

// Short enough to add little to the 500 ms delivery budget of SSE, long enough to cost nothing.
const DEFAULT_CHECK_MS = 25;
