import type { NewPrice } from "../schema/prices.ts";

// The price table a fresh database starts with: the regions' GPU price per hour in every cell,
// scaled per lane. A paying user's fast lane costs more; the relax lane (run when capacity is
// idle) costs half. Operators add rows per model version or region (db/schema/prices.ts).
export const DEFAULT_PRICES: readonly NewPrice[] = [
  { lane: "fast", multiplier: 1.5 },
  { lane: "relax", multiplier: 0.5 },
];
