// Bar charts with uPlot (https://github.com/leeoniya/uPlot, MIT, ~50 KB minified), bundled into the
// dashboard's script from the project's own dependencies.

import uPlot from "uplot";

const BAR = "#3d6df2";

function widthOf(el: HTMLElement): number {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.clientWidth || 600));
}

/** Bars over days: `days` as "2026-11-27", values formatted by `format`. */
export function dailyBars(
  el: HTMLElement,
  days: readonly string[],
  values: readonly number[],
  label: string,
  format: (v: number) => string,
): uPlot {
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const max = Math.max(0, ...values);
  return new uPlot(
    {
      width: widthOf(el),
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { x: { time: true }, y: { range: [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        {
          // One label per day or week, as "11-27" (UTC).
          incrs: [86_400, 7 * 86_400, 28 * 86_400],
          values: (_u, splits) => splits.map((s) => new Date(s * 1000).toISOString().slice(5, 10)),
        },
        { values: (_u, splits) => splits.map(format), size: 90 },
      ],
      series: [
        { value: "{YYYY}-{MM}-{DD}" },
        {
          label,
          fill: BAR,
          stroke: BAR,
          value: (_u, v) => (v === null ? "–" : format(v)),
          paths: uPlot.paths.bars!({ size: [0.7, 40] }),
          points: { show: false },
        },
      ],
    },
    [xs, [...values]],
    el,
  );
}

/** Bars over categories (models, projects, regions, keys, lanes). */
export function categoryBars(
  el: HTMLElement,
  labels: readonly string[],
  values: readonly number[],
  label: string,
  format: (v: number) => string,
): uPlot {
  const xs = labels.map((_, i) => i);
  const max = Math.max(0, ...values);
  const short = (text: string) => (text.length > 18 ? `${text.slice(0, 17)}…` : text);
  return new uPlot(
    {
      width: widthOf(el),
      height: 200,
      scales: {
        x: { time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)] },
        y: { range: [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        {
          splits: () => xs,
          values: (_u, splits) => splits.map((i) => short(labels[i] ?? "")),
          grid: { show: false },
        },
        { values: (_u, splits) => splits.map(format), size: 90 },
      ],
      legend: { show: false },
      series: [
        {},
        {
          label,
          fill: BAR,
          stroke: BAR,
          paths: uPlot.paths.bars!({ size: [0.6, 80] }),
          points: { show: false },
        },
      ],
    },
    [xs, [...values]],
    el,
  );
}
