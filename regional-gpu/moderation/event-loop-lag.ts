// How long the event loop went without running a timer while `work` ran: the longest gap between
// ticks of a 1 ms interval, counting the gap still open when the work ends. (perf_hooks'
// monitorEventLoopDelay misses a loop that never reaches its timers phase at all, e.g. while work
// chained only on microtasks blocks it from start to end: it then reports no delay.)

export interface LoopLag {
  maxGapMs: number;
  wallMs: number;
}

export async function loopLagDuring(work: () => Promise<unknown>): Promise<LoopLag> {
  const started = performance.now();
  let last = started;
  let maxGapMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(tick);
  }
  const ended = performance.now();
  return { maxGapMs: Math.max(maxGapMs, ended - last), wallMs: ended - started };
}
