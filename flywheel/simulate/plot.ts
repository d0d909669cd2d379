import sharp from "sharp";
import type { SimResult } from "./simulate.ts";

// The simulation's figure: like rate per round (all versions), one line per run, and each
// version's like rate per round as dots coloured by role. An SVG rendered to PNG by sharp.

const W = 900;
const H = 480;
const M = { left: 70, right: 230, top: 40, bottom: 60 };
const ROLE_COLOUR = { reference: "#555555", trained: "#1b9e77", worse: "#d95f02" } as const;
const RUN_COLOUR = ["#1f5fbf", "#b0b0b0"];

export function plotSvg(runs: readonly SimResult[]): string {
  const rounds = Math.max(...runs.map((r) => r.rounds.length));
  const x = (round: number) =>
    M.left + ((round - 1) / Math.max(1, rounds - 1)) * (W - M.left - M.right);
  const y = (rate: number) => H - M.bottom - rate * (H - M.top - M.bottom);
  const parts: string[] = [
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="24" font-family="sans-serif" font-size="16">Like rate per round (simulated users, local stack)</text>`,
  ];
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eeeeee"/>`,
      `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" font-family="sans-serif" font-size="12">${v.toFixed(1)}</text>`,
    );
  }
  for (let r = 1; r <= rounds; r++) {
    parts.push(
      `<text x="${x(r)}" y="${H - M.bottom + 20}" text-anchor="middle" font-family="sans-serif" font-size="12">${r}</text>`,
    );
  }
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 15}" text-anchor="middle" font-family="sans-serif" font-size="13">round</text>`,
  );
  runs.forEach((run, i) => {
    const colour = RUN_COLOUR[i % RUN_COLOUR.length]!;
    const points = run.rounds.map((r) => `${x(r.round)},${y(r.likeRate)}`).join(" ");
    parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="3"/>`);
    if (i === 0) {
      for (const r of run.rounds) {
        for (const [version, t] of Object.entries(r.versions)) {
          const role = run.versions[version] ?? "trained";
          parts.push(
            `<circle cx="${x(r.round)}" cy="${y(t.likeRate)}" r="${3 + Math.min(5, t.looks / 40)}" fill="${ROLE_COLOUR[role]}" fill-opacity="0.7"/>`,
          );
        }
      }
    }
    const ly = M.top + 20 + i * 22;
    parts.push(
      `<line x1="${W - M.right + 15}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}" font-family="sans-serif" font-size="12">all versions, fraud controls ${run.fraudControls ? "on" : "off"}</text>`,
    );
  });
  Object.entries(ROLE_COLOUR).forEach(([role, colour], i) => {
    const ly = M.top + 80 + i * 22;
    parts.push(
      `<circle cx="${W - M.right + 27}" cy="${ly}" r="5" fill="${colour}"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}" font-family="sans-serif" font-size="12">${role} version (controls on)</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join("")}</svg>`;
}

export async function writePlot(runs: readonly SimResult[], path: string): Promise<void> {
  await sharp(Buffer.from(plotSvg(runs)))
    .png({ compressionLevel: 9 })
    .toFile(path);
}
