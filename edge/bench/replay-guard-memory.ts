import { ReplayGuard } from "../../contracts/replay-guard.ts";
import { DEFAULT_TOLERANCE_S } from "../../contracts/signing.ts";

// `npm run bench:replay-guard`: the heap a ReplayGuard holds at a given rate of signed requests,
// since it keeps every accepted signature for its whole window (rate x tolerance entries). Needs
// --expose-gc (the script passes it).

const rate = Number(process.argv[2] ?? 1_000);
const entries = rate * DEFAULT_TOLERANCE_S;
const now = 1_800_000_000_000;
const guard = new ReplayGuard({ clock: () => now });
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < entries; i++) {
  // Signatures of the last `tolerance` seconds, `rate` a second, as a real edge would hold them.
  const signedAt = now - Math.floor(i / rate) * 1000;
  guard.firstSightingNow("eu-west", hex(crypto.getRandomValues(new Uint8Array(32))), signedAt);
}
gc();
const bytes = process.memoryUsage().heapUsed - before;
console.log(
  `${rate} signed requests/s x ${DEFAULT_TOLERANCE_S} s window: ${guard.size} signatures held, ` +
    `${(bytes / 2 ** 20).toFixed(1)} MiB (${Math.round(bytes / guard.size)} bytes each)`,
);
