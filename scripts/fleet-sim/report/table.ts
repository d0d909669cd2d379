import type { RunSummary } from "./summary.ts";

// The comparison as text: one block per workload, one row per policy, and the verdicts the issue
// asks for (ours vs CPU scaling, ours vs the fixed fleet), each a ratio against a run of the same
// workload in the same invocation.

const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const pad = (text: string, n: number) => text.padStart(n);

export function table(summaries: readonly RunSummary[]): string {
  const out: string[] = [];
  const byWorkload = new Map<string, RunSummary[]>();
  for (const r of summaries) byWorkload.set(r.workload, [...(byWorkload.get(r.workload) ?? []), r]);
  for (const [workload, rows] of byWorkload) {
    out.push(`\n${workload}: ${rows[0]!.requests.toLocaleString("en")} requests`);
    out.push(
      [
        "policy".padEnd(44),
        pad("wait p50/p95/p99 s", 20),
        pad("time to image p50/p95/p99 s", 29),
        pad("GPU-h", 7),
        pad("cost $", 8),
        pad("$/1k img", 9),
        pad("cold", 5),
        pad("warm", 5),
        pad("shed", 7),
        pad("failed", 7),
        pad("nodes avg/max", 14),
      ].join(" "),
    );
    for (const r of rows) {
      out.push(
        [
          `${r.policy}: ${r.label}`.slice(0, 44).padEnd(44),
          pad(`${s(r.waitMs.p50)}/${s(r.waitMs.p95)}/${s(r.waitMs.p99)}`, 20),
          pad(`${s(r.timeToImageMs.p50)}/${s(r.timeToImageMs.p95)}/${s(r.timeToImageMs.p99)}`, 29),
          pad(r.gpuHours.toFixed(0), 7),
          pad(r.costUsd.total.toFixed(0), 8),
          pad(r.costPer1000ImagesUsd.toFixed(3), 9),
          pad(String(r.coldStarts), 5),
          pad(String(r.warmPoolStarts), 5),
          pad(String(r.shed), 7),
          pad(String(r.failed), 7),
          pad(`${r.servingAvg.toFixed(1)}/${r.servingPeak}`, 14),
        ].join(" "),
      );
    }
    const verdict = verdicts(rows);
    if (verdict) out.push(verdict);
  }
  return out.join("\n");
}

export interface Verdicts {
  /** ours p95 wait / CPU p95 wait (< 1: ours waits less). */
  p95WaitOursOverCpu: number;
  gpuHoursOursOverCpu: number;
  p95WaitOursOverFixed: number;
  p95TimeToImageOursOverFixed: number;
  costOursOverFixed: number;
  /** Requests served that the other policy shed, per 1,000 requests. */
  shedPer1000: Record<string, number>;
}

export function verdictsOf(rows: readonly RunSummary[]): Verdicts | null {
  const get = (p: string) => rows.find((r) => r.policy === p);
  const [ours, cpu, fixed] = [get("ours"), get("cpu"), get("fixed")];
  if (!ours || !cpu || !fixed) return null;
  const ratio = (a: number, b: number) => Math.round((a / Math.max(b, 1e-9)) * 1000) / 1000;
  return {
    p95WaitOursOverCpu: ratio(ours.waitMs.p95, cpu.waitMs.p95),
    gpuHoursOursOverCpu: ratio(ours.gpuHours, cpu.gpuHours),
    p95WaitOursOverFixed: ratio(ours.waitMs.p95, fixed.waitMs.p95),
    p95TimeToImageOursOverFixed: ratio(ours.timeToImageMs.p95, fixed.timeToImageMs.p95),
    costOursOverFixed: ratio(ours.costUsd.total, fixed.costUsd.total),
    shedPer1000: Object.fromEntries(
      rows.map((r) => [r.policy, Math.round((r.shed / Math.max(1, r.requests)) * 10_000) / 10]),
    ),
  };
}

function verdicts(rows: readonly RunSummary[]): string | null {
  const v = verdictsOf(rows);
  if (!v) return null;
  return [
    `  ours vs cpu:   p95 wait x${v.p95WaitOursOverCpu}, GPU-hours x${v.gpuHoursOursOverCpu}`,
    `  ours vs fixed: p95 wait x${v.p95WaitOursOverFixed}, p95 time to image x${v.p95TimeToImageOursOverFixed}, cost x${v.costOursOverFixed}`,
    `  shed per 1,000 requests: ${Object.entries(v.shedPer1000)
      .map(([p, n]) => `${p} ${n}`)
      .join(", ")}`,
  ].join("\n");
}
