import sharp from "sharp";
import type { RunSummary } from "./summary.ts";

// The day as a picture: load, instances serving and p95 queue wait over time, one line per policy,
// drawn as SVG and rasterised to PNG by sharp (librsvg): no chart library.

const W = 1200;
const PANEL_H = 230;
const LEFT = 80;
const RIGHT = 200;
const TOP = 50;
const GAP = 45;
const COLOURS: Record<string, string> = {
  cpu: "#d62728",
  backlog: "#ff7f0e",
  ours: "#1f77b4",
  fixed: "#7f7f7f",
};

interface Panel {
  title: string;
  unit: string;
  lines: Array<{ name: string; colour: string; points: number[]; stepMinutes: number }>;
  /** Values above are drawn at the top edge (the axis says so). */
  cap?: number;
}

const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(p: Panel, y0: number, minutes: number): string {
  const plotW = W - LEFT - RIGHT;
  const highest = Math.max(1e-9, ...p.lines.flatMap((l) => l.points));
  const max = niceMax(Math.min(p.cap ?? Infinity, highest));
  const clipped = highest > max;
  const y = (v: number) => y0 + PANEL_H - (Math.min(v, max) / max) * PANEL_H;
  const x = (minute: number) => LEFT + (minute / minutes) * plotW;
  const parts: string[] = [
    `<text x="${LEFT}" y="${y0 - 10}" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(
      `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${LEFT - 8}" y="${y(v) + 4}" font-size="12" text-anchor="end">${+v.toFixed(2)}${i === 4 && clipped ? "+" : ""}</text>`,
    );
  }
  parts.push(
    `<text x="20" y="${y0 + PANEL_H / 2}" font-size="12" transform="rotate(-90 20 ${y0 + PANEL_H / 2})" text-anchor="middle">${esc(p.unit)}</text>`,
  );
  const hours = minutes / 60;
  const tick = hours > 6 ? 3 : hours > 2 ? 1 : 0.25;
  for (let h = 0; h <= hours + 1e-9; h += tick) {
    parts.push(
      `<text x="${x(h * 60)}" y="${y0 + PANEL_H + 16}" font-size="12" text-anchor="middle">${tick < 1 ? `${Math.round(h * 60)}m` : `${h}h`}</text>`,
    );
  }
  p.lines.forEach((line, i) => {
    const d = line.points
      .map(
        (v, k) =>
          `${k === 0 ? "M" : "L"}${x((k + 0.5) * line.stepMinutes).toFixed(1)},${y(v).toFixed(1)}`,
      )
      .join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${line.colour}" stroke-width="1.6"/>`);
    const ly = y0 + 18 + i * 18;
    parts.push(
      `<line x1="${W - RIGHT + 15}" x2="${W - RIGHT + 40}" y1="${ly - 4}" y2="${ly - 4}" stroke="${line.colour}" stroke-width="3"/>`,
      `<text x="${W - RIGHT + 46}" y="${ly}" font-size="12">${esc(line.name)}</text>`,
    );
  });
  return parts.join("\n");
}

/** SVG of one workload's runs (same minutes for every policy). */
export function plotSvg(title: string, runs: readonly RunSummary[]): string {
  const minutes = runs[0]?.series.load.length ?? 0;
  const panels: Panel[] = [
    {
      title: "Load",
      unit: "requests / s",
      lines: [
        { name: "arrivals", colour: "#2ca02c", points: runs[0]?.series.load ?? [], stepMinutes: 1 },
      ],
    },
    {
      title: "GPU instances serving (all regions)",
      unit: "instances",
      lines: runs.map((r) => ({
        name: r.policy,
        colour: COLOURS[r.policy] ?? "#000",
        points: r.series.serving,
        stepMinutes: 1,
      })),
    },
    {
      title: "p95 queue wait of the requests arriving in each 5 minutes",
      unit: "seconds",
      cap: 30,
      lines: runs.map((r) => ({
        name: r.policy,
        colour: COLOURS[r.policy] ?? "#000",
        points: r.series.p95WaitMs5min.map((ms) => ms / 1000),
        stepMinutes: 5,
      })),
    },
  ];
  const h = TOP + panels.length * (PANEL_H + GAP) + 20;
  const body = panels.map((p, i) => panel(p, TOP + 20 + i * (PANEL_H + GAP), minutes)).join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`,
    body,
    "</svg>",
  ].join("\n");
}

export async function writePlot(
  path: string,
  title: string,
  runs: readonly RunSummary[],
): Promise<void> {
  await sharp(Buffer.from(plotSvg(title, runs)))
    .png({ compressionLevel: 9 })
    .toFile(path);
}
