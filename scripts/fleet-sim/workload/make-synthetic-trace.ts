import { writeFileSync } from "node:fs";
import { SeededRandom } from "../../../regional-gpu/pipelines/seeded-random.ts";

// Writes data/azure-functions-2021-sample.csv: one synthetic hour in the format of the Azure
// Functions Invocation Trace 2021 (`app,func,end_timestamp,duration`, seconds), with the shapes
// that trace is known for: a few heavy apps, many light ones, timers firing on the minute, and apps
// that are silent for minutes and then burst. Deterministic: the committed file is this output.
//   node scripts/fleet-sim/workload/make-synthetic-trace.ts

const HOUR_S = 3_600;
const random = new SeededRandom(2021);
const hex = (bits: number) =>
  Array.from({ length: bits / 32 }, () => random.nextUint32().toString(16).padStart(8, "0")).join(
    "",
  );
const exp = (mean: number) => -Math.log(Math.max(1e-12, random.nextFloat())) * mean;
/** Log-normal with the given median. */
const logNormal = (median: number, sigma: number) => {
  const u = Math.max(1e-12, random.nextFloat());
  return (
    median *
    Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat()))
  );
};

const rows: Array<[string, string, number, number]> = [];
function invoke(app: string, func: string, start: number): void {
  if (start < 0 || start >= HOUR_S) return;
  const duration = Math.min(60, logNormal(0.6, 1.2));
  rows.push([app, func, start + duration, duration]);
}

for (let a = 0; a < 120; a++) {
  const app = hex(64);
  const funcs = Array.from({ length: 1 + Math.floor(random.nextFloat() * 3) }, () => hex(64));
  const kind = random.nextFloat();
  for (const func of funcs) {
    if (kind < 0.3) {
      // Timer: every 1 or 5 minutes, on the minute, a little late.
      const period = random.nextFloat() < 0.5 ? 60 : 300;
      for (let t = 0; t < HOUR_S; t += period) invoke(app, func, t + random.nextFloat() * 0.5);
    } else if (kind < 0.75) {
      // Steady Poisson, a heavy-tailed rate across apps.
      const rate = Math.min(1.5, logNormal(0.01, 1.5));
      for (let t = exp(1 / rate); t < HOUR_S; t += exp(1 / rate)) invoke(app, func, t);
    } else {
      // On/off bursts: silent for minutes, then tens of requests a second for seconds.
      let t = exp(900);
      while (t < HOUR_S) {
        const burst = 5 + random.nextFloat() * 25;
        const rate = 2 + random.nextFloat() * 15;
        for (let s = t; s < t + burst; s += exp(1 / rate)) invoke(app, func, s);
        t += burst + exp(1_200);
      }
    }
  }
}

rows.sort((x, y) => x[2] - y[2]);
const out = ["app,func,end_timestamp,duration"];
for (const [app, func, end, duration] of rows) {
  out.push(`${app.slice(0, 12)},${func.slice(0, 12)},${end.toFixed(3)},${duration.toFixed(3)}`);
}
const path = new URL("../data/azure-functions-2021-sample.csv", import.meta.url);
writeFileSync(path, `${out.join("\n")}\n`);
console.log(`${rows.length} invocations -> ${path.pathname}`);
