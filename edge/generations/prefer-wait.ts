export const MAX_WAIT_S = 60;

/**
 * Seconds to hold the response from `Prefer: wait` / `Prefer: wait=N` (RFC 7240); 0 when absent.
 * A bare `wait` means the maximum. Preferences are hints, so a malformed one is ignored.
 */
export function preferredWaitSeconds(prefer: string | null | undefined): number {
  if (!prefer) return 0;
  for (const part of prefer.split(",")) {
    const m = /^\s*wait\s*(?:=\s*"?(\d+)"?)?\s*(?:;.*)?$/i.exec(part);
    if (!m) continue;
    return m[1] === undefined ? MAX_WAIT_S : Math.min(Number(m[1]), MAX_WAIT_S);
  }
  return 0;
}
