import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { UsageQuery, UsageReport } from "../../contracts/usage.ts";
import { z } from "../../contracts/zod.ts";
import { listApiKeys } from "../../db/queries/api-keys.ts";
import { listProjectsFor } from "../../db/queries/projects.ts";
import { readUsage } from "../../db/queries/usage.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { invalidRequest } from "../errors/index.ts";
import { monthStart } from "../limits/budgets.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import { errorResponses, requiresScope } from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { MAX_RANGE_MS, publicFigures, shapeGroups, usageCsv } from "../usage/usage-report.ts";

const usageRoute = createRoute({
  operationId: "getUsage",
  method: "get",
  path: "/",
  summary: "Usage and cost",
  description:
    "Counts, GPU time, cost, holds of work in flight, cache hits and what they saved, for the generations accepted in [from, to), from the usage ledger: totals, and groups by hour (31 days at most), day (400 days at most), model, project, region, key or lane. Failed, blocked, canceled and cached generations cost 0. Any range of the account's history, not only this month. `Accept: text/csv` downloads the groups as CSV.",
  tags: ["Usage"],
  security: requiresScope("usage:read"),
  request: { query: UsageQuery },
  responses: {
    200: {
      description: "The report (JSON), or its groups as CSV.",
      content: {
        "application/json": { schema: UsageReport },
        "text/csv": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403),
  },
});

/** `2026-11-27` (UTC midnight) or a full ISO date-time. */
const parseTime = (text: string) => new Date(text.length === 10 ? `${text}T00:00:00Z` : text);

/** GET /v1/usage (scope usage:read). */
export function usageRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);

  app.openapi({ ...usageRoute, middleware: guard(usageRoute) }, async (c) => {
    const query = c.req.valid("query");
    const { account, apiKey } = c.var.caller;
    const now = s.clock();
    const from = query.from === undefined ? monthStart(now) : parseTime(query.from);
    const to = query.to === undefined ? new Date(now) : parseTime(query.to);
    if (from.getTime() >= to.getTime()) {
      throw invalidRequest("invalid_range", "`from` must be before `to`", "from");
    }
    const groupBy = query.group_by ?? null;
    if (
      (groupBy === "hour" || groupBy === "day") &&
      to.getTime() - from.getTime() > MAX_RANGE_MS[groupBy]
    ) {
      throw invalidRequest(
        "range_too_large",
        `group_by=${groupBy} covers at most ${MAX_RANGE_MS[groupBy] / 86_400_000} days: narrow from/to or group by day`,
        "to",
      );
    }
    const mode = query.mode ?? apiKey.mode;
    const usage = await readUsage(s.db, {
      accountId: account.id,
      from,
      to,
      groupBy,
      mode,
      projectId: query.project,
    });
    const report = {
      object: "usage" as const,
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: groupBy,
      livemode: mode === "live",
      currency: "usd" as const,
      totals: publicFigures(usage.totals),
      data: shapeGroups(
        groupBy,
        usage.groups,
        { from, to },
        await labelsFor(s, account.id, groupBy),
      ),
    };
    c.header("Cache-Control", "no-store");
    c.header("Vary", "Accept");
    if (/\btext\/csv\b/i.test(c.req.header("accept") ?? "")) {
      const name = `usage-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}-${groupBy ?? "total"}.csv`;
      return c.body(usageCsv(report), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${name}"`,
      });
    }
    return c.json(report, 200);
  });

  return app;
}

/** Readable names of the ids a report groups by: project names, key names (or prefixes). */
async function labelsFor(
  s: EdgeServices,
  accountId: string,
  groupBy: string | null,
): Promise<Map<string, string>> {
  if (groupBy === "project") {
    const projects = await listProjectsFor(s.db, accountId);
    return new Map(projects.map(({ project }) => [project.id, project.name]));
  }
  if (groupBy === "key") {
    const keys = await listApiKeys(s.db, accountId);
    return new Map(keys.map((k) => [k.id, k.name ? `${k.name} (${k.prefix})` : k.prefix]));
  }
  return new Map();
}
