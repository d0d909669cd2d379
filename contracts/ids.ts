// Opaque, type-prefixed ids. The body is time-ordered (48-bit ms timestamp + 80 random bits, Crockford
// base32, like ULID) so "newest first" lists can page on the id alone.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = {
  account: "acct",
  apiKey: "key",
  project: "proj",
  generation: "gen",
  request: "req",
  ledger: "led",
  feedback: "fb",
  assetFetch: "afx",
  moderation: "mod",
  model: "mdl",
  modelVersion: "mv",
  webhookDelivery: "whd",
  budget: "bud",
  budgetAlert: "balt",
  projectMember: "pmem",
  price: "price",
  webhookSecret: "whs",
  modelRollout: "roll",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

// Random bytes are drawn in blocks: one getRandomValues call per 409 ids instead of one per id
// (ids are minted on every request, so this is on the hot path).
const POOL = new Uint8Array(4096);
let poolOffset = POOL.length;

function randomBytes10(): Uint8Array {
  if (poolOffset + 10 > POOL.length) {
    crypto.getRandomValues(POOL);
    poolOffset = 0;
  }
  const bytes = POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return bytes;
}

/** 48-bit ms timestamp as 10 base32 characters (plain numbers: exact below 2^53). */
function encodeTime(now: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[now % 32]! + out;
    now = Math.floor(now / 32);
  }
  return out;
}

/** 80 bits as 16 base32 characters: each 5 bytes are 8 characters. */
function encodeRandom(bytes: Uint8Array): string {
  let out = "";
  for (let half = 0; half < 10; half += 5) {
    // 40 bits: the high 8 as a number, the low 32 as an unsigned int.
    const hi = bytes[half]!;
    const lo =
      ((bytes[half + 1]! << 24) |
        (bytes[half + 2]! << 16) |
        (bytes[half + 3]! << 8) |
        bytes[half + 4]!) >>>
      0;
    let value = hi * 2 ** 32 + lo;
    let chunk = "";
    for (let i = 0; i < 8; i++) {
      chunk = ALPHABET[value % 32]! + chunk;
      value = Math.floor(value / 32);
    }
    out += chunk;
  }
  return out;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(now)}${encodeRandom(randomBytes10())}`;
}

const ID_PATTERNS = new Map<IdKind, RegExp>();

export function hasPrefix(id: string, kind: IdKind): boolean {
  let pattern = ID_PATTERNS.get(kind);
  if (!pattern) {
    pattern = new RegExp(`^${ID_PREFIXES[kind]}_[0-9a-hjkmnp-tv-z]{26}$`);
    ID_PATTERNS.set(kind, pattern);
  }
  return pattern.test(id);
}
