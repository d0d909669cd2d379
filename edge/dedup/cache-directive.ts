// Whether a request may be answered from the dedup cache or merged into identical work in flight,
// and how the answer says what happened.

/**
 * - `use`: an explicit seed, no opt-out: look the request up and merge it into identical work;
 * - `request`: the request opts out, with `"cache": false` in the body or `Cache-Control: no-cache`
 *   / `no-store` (a fresh GPU run is wanted);
 * - `bypass`: no seed, so the caller asked for a new random image: nothing to look up.
 */
export function cacheModeOf(
  body: { cache?: boolean | undefined; seed?: number | undefined },
  cacheControl: string | undefined,
): "use" | "request" | "bypass" {
  if (body.seed === undefined) return "bypass";
  if (body.cache === false) return "request";
  const directives = (cacheControl ?? "")
    .split(",")
    .map((d) => d.split("=")[0]!.trim().toLowerCase());
  return directives.includes("no-cache") || directives.includes("no-store") ? "request" : "use";
}

export type CacheOutcome = "hit" | "collapsed" | "miss" | "bypass" | "request";

const CACHE_NAME = "genart";

/**
 * A `Cache-Status` response header (RFC 9211): `hit` (answered from storage), `fwd=miss;collapsed`
 * (merged into an identical generation in flight), `fwd=miss`, `fwd=request` (the request opted
 * out) or `fwd=bypass` (random seed: nothing to look up).
 */
export function cacheStatus(outcome: CacheOutcome): string {
  switch (outcome) {
    case "hit":
      return `${CACHE_NAME}; hit`;
    case "collapsed":
      return `${CACHE_NAME}; fwd=miss; collapsed`;
    default:
      return `${CACHE_NAME}; fwd=${outcome}`;
  }
}
