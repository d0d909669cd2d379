// Which version an unpinned request runs on while a canary is out: pure, so the edge, the tests
// and the simulation share one rule. An account's bucket is a fixed point in [0, 1) drawn from
// its id and the model's name: the account sees the canary while the share is above its bucket,
// so one user sees one version, and raising the share only adds accounts (never swaps them).

/**
 * FNV-1a, 32 bits, then murmur3's finalizer (FNV alone leaves the top bits poorly mixed for ids
 * that differ in their last characters): fast, synchronous on every runtime, uniform.
 */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The account's fixed point in [0, 1) for `model` (a new model reshuffles who is in a canary). */
export function canaryBucket(accountId: string, model: string): number {
  return hash32(`${model}\u0000${accountId}`) / 2 ** 32;
}

export interface ServingVersions<V> {
  /** The version unpinned requests run on; null when the model has none. */
  default: V | null;
  /** The canary and the share of unpinned accounts it takes (0..1), or null. */
  canary: { version: V; share: number } | null;
}

/**
 * The version an unpinned request from `accountId` runs on: the canary when the account's bucket
 * falls under its share (or when there is no default), else the default; null when neither exists.
 */
export function chooseServingVersion<V>(
  serving: ServingVersions<V>,
  accountId: string,
  model: string,
): V | null {
  const { canary } = serving;
  if (canary && (serving.default === null || canaryBucket(accountId, model) < canary.share)) {
    return canary.version;
  }
  return serving.default;
}
