import { describe, expect, it } from "vitest";
import { emptyFigures } from "../../db/queries/usage.ts";
import type { Budget } from "../../db/schema/budgets.ts";
import type { Price } from "../../db/schema/prices.ts";
import { budgetVerdict, crossedThresholds, thresholdPayload } from "../limits/budgets.ts";
import { matchPrice } from "../pricing/price-book.ts";
import { bucketKeys, publicFigures, usageCsv } from "./usage-report.ts";

describe("usage report shaping", () => {
  it("lists every hour or day bucket of a range", () => {
    const from = new Date("2026-11-27T22:30:00Z");
    const to = new Date("2026-11-28T01:00:00Z");
    expect(bucketKeys("hour", from, to)).toEqual([
      "2026-11-27T22:00:00Z",
      "2026-11-27T23:00:00Z",
      "2026-11-28T00:00:00Z",
    ]);
    expect(bucketKeys("day", from, to)).toEqual(["2026-11-27", "2026-11-28"]);
  });

  it("writes RFC 4180 CSV with formulas defused", () => {
    const row = {
      key: "proj_1",
      label: '=HYPERLINK("x"), "quoted"',
      ...publicFigures(emptyFigures()),
    };
    const csv = usageCsv({
      object: "usage",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-12-01T00:00:00.000Z",
      group_by: "project",
      livemode: true,
      currency: "usd",
      totals: publicFigures(emptyFigures()),
      data: [row],
    });
    const [head, line] = csv.split("\r\n");
    expect(head!.startsWith("project,label,requests")).toBe(true);
    expect(line).toBe(`proj_1,"'=HYPERLINK(""x""), ""quoted""",0,0,0,0,0,0,0,0,0,,`);
  });
});

const budget = (over: Partial<Budget>): Budget => ({
  id: "bud_1",
  accountId: "acct_1",
  projectId: null,
  amountMicrousd: 1_000,
  rule: "stop",
  webhookUrl: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...over,
});

describe("budgets", () => {
  it("crosses thresholds at 50/75/90/100% of the amount", () => {
    expect(crossedThresholds(499, 1_000)).toEqual([]);
    expect(crossedThresholds(500, 1_000)).toEqual([50]);
    expect(crossedThresholds(905, 1_000)).toEqual([50, 75, 90]);
    expect(crossedThresholds(2_000, 1_000)).toEqual([50, 75, 90, 100]);
  });

  it("applies the rule of a budget the estimate would take past 100%; stop wins", () => {
    const account = budget({ rule: "relax" });
    const project = budget({ id: "bud_2", projectId: "proj_1", rule: "stop", amountMicrousd: 100 });
    const spend = { accountMicrousd: 990, projectMicrousd: 50 };
    expect(budgetVerdict([account, project], spend, 5)).toEqual({ stop: null, relax: null });
    expect(budgetVerdict([account, project], spend, 20)).toEqual({ stop: null, relax: account });
    expect(budgetVerdict([account, project], spend, 60)).toEqual({ stop: project, relax: account });
  });

  it("describes a crossing as a usage.threshold message", () => {
    const payload = thresholdPayload(budget({ rule: "relax" }), {
      percent: 100,
      month: "2026-11",
      spent: 1_250,
      at: new Date("2026-11-27T12:00:00Z"),
    });
    expect(payload).toEqual({
      type: "usage.threshold",
      timestamp: "2026-11-27T12:00:00.000Z",
      data: {
        object: "usage_threshold",
        budget: "bud_1",
        project: null,
        month: "2026-11",
        percent: 100,
        amount_usd: 0.001,
        spent_usd: 0.00125,
        rule: "relax",
        rule_applies: true,
      },
    });
  });
});

describe("the price table", () => {
  const row = (over: Partial<Price>): Price => ({
    id: "price_x",
    modelVersionId: null,
    lane: null,
    region: null,
    cell: "",
    gpuSecondMicrousd: null,
    megapixelMicrousd: 0,
    multiplier: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...over,
  });
  it("matches the most specific row: model version, then region, then lane", () => {
    const rows = [
      row({ id: "lane", lane: "relax" }),
      row({ id: "region", region: "eu-west" }),
      row({ id: "version", modelVersionId: "mv_1" }),
      row({ id: "region-lane", region: "eu-west", lane: "relax" }),
    ];
    const cell = (modelVersionId: string | null, lane: "fast" | "relax", region: string | null) =>
      matchPrice(rows, { modelVersionId, lane, region })?.id ?? null;
    expect(cell("mv_1", "relax", "eu-west")).toBe("version");
    expect(cell("mv_2", "relax", "eu-west")).toBe("region-lane");
    expect(cell("mv_2", "fast", "eu-west")).toBe("region");
    expect(cell("mv_2", "relax", "us-east")).toBe("lane");
    expect(cell("mv_2", "fast", null)).toBeNull();
  });
});
