import { z } from "./zod.ts";

// POST/GET/PATCH /v1/projects, members and the project feed (../shared/API.md, Projects).

export const ProjectRole = z.enum(["viewer", "editor"]).openapi("ProjectRole");
export const BudgetRule = z
  .enum(["stop", "relax"])
  .describe("At 100%: `stop` refuses new requests (402), `relax` runs them in the relax lane only.")
  .openapi("BudgetRule");

export const BudgetSettings = z
  .strictObject({
    amount_usd: z.number().positive().max(1_000_000).describe("Per UTC month, live spend."),
    rule: BudgetRule.default("stop"),
    webhook_url: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional()
      .describe("Receives `usage.threshold` at 50/75/90/100%, signed like every webhook."),
  })
  .openapi("BudgetSettings");
export type BudgetSettings = z.infer<typeof BudgetSettings>;

const name = z.string().trim().min(1).max(200);
const visibility = z
  .enum(["private", "public"])
  .describe("`public`: outputs are open to anyone with their URL and cached at the edge.");
const strictness = z
  .enum(["relaxed", "standard", "strict"])
  .describe("Prompt moderation strictness for generations under the project.");

export const CreateProjectRequest = z
  .strictObject({
    name,
    visibility: visibility.default("private"),
    moderation: z.strictObject({ strictness: strictness.default("standard") }).optional(),
    monthly_budget: BudgetSettings.nullable().optional(),
  })
  .openapi("CreateProjectRequest");
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z
  .strictObject({
    name: name.optional(),
    visibility: visibility.optional(),
    moderation: z.strictObject({ strictness }).optional(),
    monthly_budget: BudgetSettings.nullable().optional().describe("null removes the budget."),
  })
  .openapi("UpdateProjectRequest");
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ProjectMember = z
  .object({
    object: z.literal("project_member"),
    account: z.string(),
    role: ProjectRole,
    created_at: z.string(),
  })
  .openapi("ProjectMember");

export const Budget = z
  .object({
    object: z.literal("budget"),
    id: z.string(),
    /** null: the account's budget. */
    project: z.string().nullable(),
    amount_usd: z.number(),
    rule: BudgetRule,
    webhook_url: z.string().nullable(),
    /** UTC month the figures below are for, "2026-11". */
    month: z.string(),
    spent_usd: z.number(),
    /** spent / amount, in percent. */
    used_percent: z.number(),
    /** Thresholds crossed this month, with when. */
    thresholds: z.array(z.object({ percent: z.number().int(), crossed_at: z.string() })),
  })
  .openapi("Budget");
export type Budget = z.infer<typeof Budget>;

export const Project = z
  .object({
    id: z.string(),
    object: z.literal("project"),
    name: z.string(),
    /** The account that owns the project (and administers it). */
    owner: z.string(),
    visibility,
    moderation: z.object({ strictness }),
    /** The caller's role: `owner`, `editor` or `viewer`. */
    role: z.enum(["owner", "editor", "viewer"]),
    monthly_budget: Budget.nullable(),
    members: z.array(ProjectMember),
    created_at: z.string(),
    urls: z.object({ self: z.string(), events: z.string(), generations: z.string() }),
  })
  .openapi("Project");
export type Project = z.infer<typeof Project>;

export const ProjectList = z
  .object({ object: z.literal("list"), data: z.array(Project) })
  .openapi("ProjectList");

export const AddMemberRequest = z
  .strictObject({
    account: z.string().regex(/^acct_[0-9a-z]{26}$/, "account must be an account id"),
    role: ProjectRole,
  })
  .openapi("AddMemberRequest");

/** Body of DELETE /v1/projects/:id/members (API.md's form of removing a member). */
export const RemoveMemberRequest = z
  .strictObject({
    account: z.string().regex(/^acct_[0-9a-z]{26}$/, "account must be an account id"),
  })
  .openapi("RemoveMemberRequest");

export const BudgetList = z
  .object({ object: z.literal("list"), data: z.array(Budget) })
  .openapi("BudgetList");
