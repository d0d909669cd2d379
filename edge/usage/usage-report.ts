import type { UsageReport } from "../../contracts/usage.ts";
import type { z } from "../../contracts/zod.ts";
import type { UsageFigures as Figures, UsageGroup, UsageRow } from "../../db/queries/usage.ts";
import { emptyFigures } from "../../db/queries/usage.ts";
import { microusdToUsd } from "../generations/pricing.ts";

// Pure shaping of the ledger's usage: public figures, empty time buckets filled in (so a chart has
// every hour or day of the range), readable labels, CSV.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Bounds on a report's buckets: 31 days of hours, 400 days of days. */
export const MAX_RANGE_MS = { hour: 31 * DAY_MS, day: 400 * DAY_MS } as const;

type PublicFigures = z.infer<typeof UsageReport>["totals"];

export function publicFigures(f: Figures): PublicFigures {
  return {
    requests: f.requests,
    succeeded: f.succeeded,
    refunded: f.refunded,
    cached: f.cached,
    in_flight: f.inFlight,
    gpu_ms: f.gpuMs,
    cost_usd: microusdToUsd(f.costMicrousd),
    reserved_usd: microusdToUsd(f.reservedMicrousd),
    saved_usd: microusdToUsd(f.savedMicrousd),
    time_to_image_ms: { p50: f.p50Ms, p95: f.p95Ms },
  };
}

/** The keys of every bucket of [from, to): `2026-11-27T13:00:00Z` (hour) or `2026-11-27` (day). */
export function bucketKeys(groupBy: "hour" | "day", from: Date, to: Date): string[] {
  const step = groupBy === "hour" ? HOUR_MS : DAY_MS;
  const start = Math.floor(from.getTime() / step) * step;
  const keys: string[] = [];
  for (let t = start; t < to.getTime(); t += step) {
    const iso = new Date(t).toISOString();
    keys.push(groupBy === "hour" ? `${iso.slice(0, 13)}:00:00Z` : iso.slice(0, 10));
  }
  return keys;
}

/** Groups as the API shows them; hour and day ranges get a zero entry for each empty bucket. */
export function shapeGroups(
  groupBy: UsageGroup | null,
  rows: readonly UsageRow[],
  range: { from: Date; to: Date },
  labels: ReadonlyMap<string, string>,
): z.infer<typeof UsageReport>["data"] {
  if (groupBy === null) return [];
  let filled: UsageRow[] = [...rows];
  if (groupBy === "hour" || groupBy === "day") {
    const byKey = new Map(rows.map((r) => [r.key, r]));
    filled = bucketKeys(groupBy, range.from, range.to).map(
      (key) => byKey.get(key) ?? { key, ...emptyFigures() },
    );
  }
  return filled.map((row) => ({
    key: row.key,
    label: row.key === null ? null : (labels.get(row.key) ?? null),
    ...publicFigures(row),
  }));
}

const CSV_COLUMNS = [
  "requests",
  "succeeded",
  "refunded",
  "cached",
  "in_flight",
  "gpu_ms",
  "cost_usd",
  "reserved_usd",
  "saved_usd",
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; formulas defused. */
function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  // A spreadsheet would run a cell starting with = + - @ as a formula.
  if (typeof value === "string" && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as CSV: one row per group (or one `total` row without grouping), CRLF lines. */
export function usageCsv(report: z.infer<typeof UsageReport>): string {
  const head = [report.group_by ?? "range", "label", ...CSV_COLUMNS, "p50_ms", "p95_ms"];
  const rows =
    report.group_by === null
      ? [{ key: `${report.from}/${report.to}`, label: "total", ...report.totals }]
      : report.data;
  const lines = [head.join(",")];
  for (const row of rows) {
    lines.push(
      [
        csvField(row.key),
        csvField(row.label),
        ...CSV_COLUMNS.map((c) => csvField(row[c])),
        csvField(row.time_to_image_ms.p50),
        csvField(row.time_to_image_ms.p95),
      ].join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}
