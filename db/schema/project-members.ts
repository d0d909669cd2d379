import { check, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import { createdAt, oneOf, updatedAt } from "./_helpers.ts";
import { accounts } from "./accounts.ts";
import { projects } from "./projects.ts";

export const PROJECT_ROLES = ["viewer", "editor"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/**
 * Accounts other than the owner that share a project: viewers read its generations and feed,
 * editors also generate under it (billed to their own account, counted in the project's budget).
 */
export const projectMembers = pgTable(
  "project_members",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => newId("projectMember")),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    role: text("role", { enum: PROJECT_ROLES }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("project_members_project_id_account_id_idx").on(t.projectId, t.accountId),
    index("project_members_account_id_idx").on(t.accountId),
    check("project_members_role_check", oneOf(t.role, PROJECT_ROLES)),
  ],
);

export type ProjectMember = typeof projectMembers.$inferSelect;
export type NewProjectMember = typeof projectMembers.$inferInsert;
