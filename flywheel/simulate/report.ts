import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writePlot } from "./plot.ts";
import { FULL, QUICK, runSimulation, type SimResult } from "./simulate.ts";

// Runs the simulation (twice with --compare: fraud controls on, then off), prints the rounds and a
// summary, and (full runs) writes docs/flywheel-simulation.json and docs/flywheel-like-rate.png.

export interface Summary {
  fraudControls: boolean;
  startLikeRate: number;
  endLikeRate: number;
  rise: number;
  worseRolledBack: boolean;
  /** Honest likes per look over the whole run: the reference version, and all trained ones. */
  referenceLikeRate: number;
  trainedLikeRate: number;
  promoted: string[];
  rolledBack: string[];
  /**
   * The spammers' effect: the largest distance, over the versions, between honest users' approval
   * and the approval measured with the fraud controls, and without them.
   */
  spamEffect: { withControls: number; withoutControls: number };
}

/** The like rate at the start (round 1) and at the end (mean of the last two rounds). */
export function summarize(run: SimResult): Summary {
  const rates = run.rounds.map((r) => r.likeRate);
  const start = rates[0] ?? 0;
  const tail = rates.slice(-2);
  const end = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const worse = Object.entries(run.versions)
    .filter(([, role]) => role === "worse")
    .map(([v]) => v);
  const pooled = (role: "reference" | "trained") => {
    let [looks, likes] = [0, 0];
    for (const r of run.rounds) {
      for (const [v, t] of Object.entries(r.versions)) {
        if (run.versions[v] !== role) continue;
        looks += t.looks;
        likes += t.likes;
      }
    }
    return looks ? likes / looks : 0;
  };
  return {
    fraudControls: run.fraudControls,
    referenceLikeRate: round3(pooled("reference")),
    trainedLikeRate: round3(pooled("trained")),
    startLikeRate: round3(start),
    endLikeRate: round3(end),
    rise: round3(end - start),
    worseRolledBack: worse.length > 0 && worse.every((v) => run.rolledBack.includes(v)),
    promoted: run.promoted,
    rolledBack: run.rolledBack,
    spamEffect: {
      withControls: round3(maxDistance(run, "withControls")),
      withoutControls: round3(maxDistance(run, "withoutControls")),
    },
  };
}

function maxDistance(run: SimResult, measured: "withControls" | "withoutControls"): number {
  const gaps = Object.values(run.approval).map((a) => Math.abs(a[measured] - a.honest));
  return Math.max(0, ...gaps);
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runSimulationReport(opts: {
  quick: boolean;
  compare: boolean;
  /** Where the JSON and the plot go; full runs default to docs/, quick runs write none without it. */
  out?: string;
  fraudControls: boolean;
  /** Replaces the preset's seed. */
  seed?: number;
}): Promise<number> {
  const preset = opts.quick ? QUICK : FULL;
  const base = { ...preset, seed: opts.seed ?? preset.seed };
  const arms = opts.compare ? [true, false] : [opts.fraudControls];
  const runs: SimResult[] = [];
  for (const fraudControls of arms) {
    console.log(
      `\n== simulation (${opts.quick ? "quick" : "full"}), fraud controls ${fraudControls ? "on" : "off"} ==`,
    );
    runs.push(await runSimulation({ ...base, fraudControls, log: (l) => console.log(l) }));
  }
  const summaries = runs.map(summarize);
  console.log("\n== summary ==");
  for (const s of summaries) {
    console.log(
      `fraud controls ${s.fraudControls ? "on " : "off"}: like rate ${s.startLikeRate} -> ${s.endLikeRate} (${s.rise >= 0 ? "+" : ""}${s.rise}); reference version ${s.referenceLikeRate}, trained versions ${s.trainedLikeRate}; promoted ${s.promoted.join(", ") || "-"}; rolled back ${s.rolledBack.join(", ") || "-"}; worse version rolled back: ${s.worseRolledBack}; spammers' effect on approval: ${s.spamEffect.withControls} with the controls, ${s.spamEffect.withoutControls} without`,
    );
  }
  const out = opts.out ?? (opts.quick ? undefined : "docs");
  if (out) {
    await mkdir(out, { recursive: true });
    const mode = opts.quick ? "quick" : "full";
    await writeFile(
      join(out, "flywheel-simulation.json"),
      `${JSON.stringify({ mode, options: base, summaries, runs }, null, 2)}\n`,
    );
    await writePlot(runs, join(out, "flywheel-like-rate.png"));
    console.log(`wrote ${join(out, "flywheel-simulation.json")} and flywheel-like-rate.png`);
  }
  const main = summaries[0]!;
  return main.trainedLikeRate > main.referenceLikeRate && main.worseRolledBack ? 0 : 1;
}
