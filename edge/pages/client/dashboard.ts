// The usage dashboard at `/dashboard`: spend per day, spend by model / project / region / key /
// lane (charts and tables), GPU time, cache-hit savings, time to image per region, budget bars
// with their thresholds, CSV download. Everything comes from GET /v1/usage and GET /v1/budgets.

import { api, errorOf, mountKeyBox, storedKey } from "./api.ts";
import { categoryBars, dailyBars } from "./charts.ts";
import { byId, h } from "./dom.ts";
import { count, ms, usd } from "./format.ts";

interface Figures {
  requests: number;
  succeeded: number;
  refunded: number;
  cached: number;
  in_flight: number;
  gpu_ms: number;
  cost_usd: number;
  reserved_usd: number;
  saved_usd: number;
  time_to_image_ms: { p50: number | null; p95: number | null };
}
interface Report {
  from: string;
  to: string;
  livemode: boolean;
  totals: Figures;
  data: (Figures & { key: string | null; label: string | null })[];
}
interface Budget {
  id: string;
  project: string | null;
  amount_usd: number;
  rule: string;
  spent_usd: number;
  used_percent: number;
  month: string;
  thresholds: { percent: number }[];
}

const GROUPS = [
  ["model", "By model"],
  ["project", "By project"],
  ["region", "By region"],
  ["key", "By API key"],
  ["lane", "By lane"],
] as const;

function rangeOf(choice: string): { from: string; to: string } {
  const now = new Date();
  const to = new Date(now.getTime() + 1000).toISOString();
  if (choice === "month") {
    return { from: `${now.toISOString().slice(0, 7)}-01`, to };
  }
  const days = Number(choice);
  const from = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - days + 1),
  );
  return { from: from.toISOString().slice(0, 10), to };
}

async function usage(query: Record<string, string>): Promise<Report> {
  const res = await api(`/v1/usage?${new URLSearchParams(query)}`);
  if (!res.ok) throw new Error((await errorOf(res)).message);
  return (await res.json()) as Report;
}

async function refresh(): Promise<void> {
  const notice = byId("dashboard-error");
  notice.textContent = "";
  if (!storedKey()) {
    notice.textContent = "Paste an API key with the usage:read scope to see its account's usage.";
    return;
  }
  const range = rangeOf(byId<HTMLSelectElement>("range").value);
  try {
    const daily = await usage({ ...range, group_by: "day" });
    renderTiles(daily);
    const days = byId("chart-daily");
    days.replaceChildren();
    dailyBars(
      days,
      daily.data.map((d) => d.key ?? ""),
      daily.data.map((d) => d.cost_usd),
      "Spend",
      usd,
    );
    byId("range-label").textContent =
      `${daily.from.slice(0, 10)} to ${daily.to.slice(0, 10)} (UTC) · ${daily.livemode ? "live" : "test mode"}`;
    await Promise.all([
      ...GROUPS.map(([group, title]) => renderGroup(group, title, range)),
      renderBudgets(),
    ]);
    document.body.dataset.loaded = "true";
  } catch (err) {
    notice.textContent = String(err instanceof Error ? err.message : err);
  }
}

function tile(id: string, label: string, value: string, detail: string): HTMLElement {
  return h(
    "div",
    { class: "tile", id },
    h("span", { class: "label" }, label),
    h("strong", {}, value),
    h("small", {}, detail),
  );
}

function renderTiles(r: Report): void {
  const t = r.totals;
  const hitShare = t.requests === 0 ? 0 : Math.round((t.cached * 100) / t.requests);
  byId("tiles").replaceChildren(
    tile(
      "tile-spend",
      "Spend",
      usd(t.cost_usd),
      `${count(t.succeeded)} charged, ${count(t.refunded)} refunded`,
    ),
    tile(
      "tile-requests",
      "Requests",
      count(t.requests),
      `${count(t.in_flight)} in flight (${usd(t.reserved_usd)} held)`,
    ),
    tile(
      "tile-gpu",
      "GPU time",
      ms(t.gpu_ms),
      `p50 ${ms(t.time_to_image_ms.p50)} · p95 ${ms(t.time_to_image_ms.p95)} to image`,
    ),
    tile(
      "tile-cache",
      "Cache hits",
      `${hitShare}%`,
      `${count(t.cached)} answers, ${usd(t.saved_usd)} saved`,
    ),
  );
}

async function renderGroup(group: string, title: string, range: { from: string; to: string }) {
  const report = await usage({ ...range, group_by: group });
  const rows = report.data.filter((d) => d.requests > 0);
  const name = (d: (typeof rows)[number]) => d.label ?? d.key ?? "(none)";
  const chart = h("div", { class: "chart" });
  const table = h(
    "table",
    { id: `table-${group}` },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["", "Requests", "Spend", "GPU time", "Cache hits", "Saved", "p50", "p95"].map((c) =>
          h("th", {}, c),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      ...rows.map((d) =>
        h(
          "tr",
          {},
          h("td", {}, name(d)),
          h("td", {}, count(d.requests)),
          h("td", {}, usd(d.cost_usd)),
          h("td", {}, ms(d.gpu_ms)),
          h("td", {}, count(d.cached)),
          h("td", {}, usd(d.saved_usd)),
          h("td", {}, ms(d.time_to_image_ms.p50)),
          h("td", {}, ms(d.time_to_image_ms.p95)),
        ),
      ),
    ),
  );
  const section = byId(`group-${group}`);
  section.replaceChildren(
    h("h2", {}, title),
    rows.length === 0 ? h("p", { class: "empty" }, "No usage in this range.") : chart,
    table,
  );
  if (rows.length > 0)
    categoryBars(
      chart,
      rows.map(name),
      rows.map((d) => d.cost_usd),
      "Spend",
      usd,
    );
}

async function renderBudgets(): Promise<void> {
  const res = await api("/v1/budgets");
  const box = byId("budgets");
  if (!res.ok) {
    box.replaceChildren(h("p", { class: "empty" }, (await errorOf(res)).message));
    return;
  }
  const budgets = ((await res.json()) as { data: Budget[] }).data;
  if (budgets.length === 0) {
    box.replaceChildren(
      h(
        "p",
        { class: "empty" },
        "No budgets: set one with PUT /v1/budgets/account or on a project.",
      ),
    );
    return;
  }
  box.replaceChildren(
    ...budgets.map((b) => {
      const bar = h("div", { class: "bar" });
      const fill = h("div", { class: `fill${b.used_percent >= 100 ? " over" : ""}` });
      fill.style.width = `${Math.min(100, b.used_percent)}%`;
      bar.append(fill);
      for (const p of [50, 75, 90, 100]) {
        const tick = h("span", {
          class: `tick${b.thresholds.some((t) => t.percent === p) ? " crossed" : ""}`,
          title: `${p}%`,
        });
        tick.style.left = `${p}%`;
        bar.append(tick);
      }
      return h(
        "div",
        { class: "budget", "data-budget": b.id },
        h(
          "p",
          {},
          h("strong", {}, b.project ? `Project ${b.project}` : "Account"),
          ` · ${usd(b.spent_usd)} of ${usd(b.amount_usd)} in ${b.month} (${b.used_percent}%) · at 100%: ${b.rule === "stop" ? "stop" : "relax lane only"}`,
        ),
        bar,
      );
    }),
  );
}

async function downloadCsv(): Promise<void> {
  const range = rangeOf(byId<HTMLSelectElement>("range").value);
  const group = byId<HTMLSelectElement>("csv-group").value;
  const res = await api(`/v1/usage?${new URLSearchParams({ ...range, group_by: group })}`, {
    headers: { accept: "text/csv" },
  });
  if (!res.ok) {
    byId("dashboard-error").textContent = (await errorOf(res)).message;
    return;
  }
  const name =
    /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "usage.csv";
  const link = h("a", { href: URL.createObjectURL(await res.blob()), download: name });
  link.click();
  URL.revokeObjectURL(link.href);
}

mountKeyBox(() => void refresh());
byId("range").addEventListener("change", () => void refresh());
byId("download-csv").addEventListener("click", () => void downloadCsv());
void refresh();
