// Bounded waits shared by the edge (Workers, Deno, Node) and the regional nodes: plain timers only.

/** What settleWithin answers: the work's value, or that the deadline came first. */
export type SettledWithin<T> = { settled: true; value: T } | { settled: false };

/** The longest delay timers honour; Node fires a longer one after 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const TIMED_OUT = { settled: false } as const;

/**
 * Waits for `work` at most `ms`: `{ settled: true, value }` when it fulfils in time, `{ settled:
 * false }` when the deadline comes first (the work goes on, and a later rejection of it is handled).
 * A rejection within the deadline rejects. The timer is cleared before this returns, so it never
 * keeps a process alive. `ms` <= 0 or NaN allows only a zero-delay timer: work that has settled, or
 * settles before timers run, still counts. `Infinity` waits with no deadline and no timer.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number): Promise<SettledWithin<T>> {
  if (ms === Infinity) return { settled: true, value: await work };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms > 0 ? Math.min(ms, MAX_DELAY_MS) : 0);
  });
  try {
    return await Promise.race([
      work.then((value) => ({ settled: true, value }) as const),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
