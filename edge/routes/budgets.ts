import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { Budget, BudgetList, BudgetSettings } from "../../contracts/projects.ts";
import { z } from "../../contracts/zod.ts";
import { deleteBudget, listBudgets, upsertBudget } from "../../db/queries/budgets.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { ApiError, invalidRequest, notFound } from "../errors/index.ts";
import { budgetReports } from "../limits/budget-report.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  jsonContent,
  jsonRequestBody,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const BUDGET_RULES_TEXT =
  "`usage.threshold` webhooks at 50/75/90/100% (once each per UTC month); at 100% the rule applies: `stop` refuses new requests with 402 `budget_exceeded`, `relax` runs them in the relax lane only. Live spend only: test keys never count.";

const listBudgetsRoute = createRoute({
  operationId: "listBudgets",
  method: "get",
  path: "/",
  summary: "List budgets",
  description: `The account's monthly budget and those of its projects, with this month's spend and the thresholds crossed. ${BUDGET_RULES_TEXT}`,
  tags: ["Usage"],
  security: requiresScope("usage:read"),
  responses: { 200: jsonContent(BudgetList, "The budgets."), ...errorResponses(401, 403) },
});

const putAccountBudgetRoute = createRoute({
  operationId: "setAccountBudget",
  method: "put",
  path: "/account",
  summary: "Set the account's monthly budget",
  description: `Replaces the account's budget. ${BUDGET_RULES_TEXT} Project budgets are set on the project (PATCH /v1/projects/{id}).`,
  tags: ["Usage"],
  security: requiresScope("projects:admin"),
  request: { body: jsonRequestBody("BudgetSettings") },
  responses: {
    200: jsonContent(Budget, "The budget."),
    ...errorResponses(400, 401, 403, 413),
  },
});

const deleteAccountBudgetRoute = createRoute({
  operationId: "deleteAccountBudget",
  method: "delete",
  path: "/account",
  summary: "Remove the account's monthly budget",
  tags: ["Usage"],
  security: requiresScope("projects:admin"),
  responses: {
    200: jsonContent(z.object({ deleted: z.literal(true) }), "Removed."),
    ...errorResponses(401, 403, 404),
  },
});

/** GET /v1/budgets, PUT/DELETE /v1/budgets/account. */
export function budgetRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  app.openAPIRegistry.register("BudgetSettings", BudgetSettings);

  app.openapi({ ...listBudgetsRoute, middleware: guard(listBudgetsRoute) }, async (c) => {
    const budgets = await listBudgets(s.db, c.var.caller.account.id);
    c.header("Cache-Control", "no-store");
    const data = await budgetReports(s.db, budgets, s.clock());
    return c.json({ object: "list" as const, data }, 200);
  });

  app.openapi(
    {
      ...putAccountBudgetRoute,
      middleware: [
        ...guard(putAccountBudgetRoute),
        jsonBody({ schema: BudgetSettings, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const settings = c.var.body;
      const budget = await saveBudget(s, c.var.caller.account.id, null, settings);
      const [report] = await budgetReports(s.db, [budget], s.clock());
      return c.json(report!, 200);
    },
  );

  app.openapi(
    { ...deleteAccountBudgetRoute, middleware: guard(deleteAccountBudgetRoute) },
    async (c) => {
      const removed = await deleteBudget(s.db, {
        accountId: c.var.caller.account.id,
        projectId: null,
      });
      s.budgets.invalidate();
      if (!removed) throw notFound("the account has no budget", "budget_not_found");
      return c.json({ deleted: true as const }, 200);
    },
  );

  return app;
}

/** Writes a budget (its webhook URL checked like any webhook target) and forgets cached ones. */
export async function saveBudget(
  s: EdgeServices,
  accountId: string,
  projectId: string | null,
  settings: BudgetSettings,
) {
  const webhookUrl = settings.webhook_url ?? null;
  if (webhookUrl !== null) {
    try {
      s.webhooks.checkTarget({ url: webhookUrl });
    } catch (err) {
      if (err instanceof ApiError) throw invalidRequest(err.code, err.message, "webhook_url");
      throw err;
    }
  }
  const budget = await upsertBudget(s.db, {
    accountId,
    projectId,
    amountMicrousd: Math.round(settings.amount_usd * 1_000_000),
    rule: settings.rule,
    webhookUrl,
  });
  s.budgets.invalidate();
  return budget;
}
