import { and, asc, desc, eq, gt, inArray, isNotNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow } from "../schema/generations.ts";
import { projectMembers, type ProjectMember, type ProjectRole } from "../schema/project-members.ts";
import {
  PROJECT_VISIBILITIES,
  projects,
  type NewProject,
  type Project,
} from "../schema/projects.ts";

export const CreateProjectInput = z.strictObject({
  accountId: z.string().min(1),
  name: z.string().trim().min(1).max(200),
  visibility: z.enum(PROJECT_VISIBILITIES).optional(),
  moderationPolicy: z
    .looseObject({ strictness: z.enum(["relaxed", "standard", "strict"]).optional() })
    .optional(),
});
export type CreateProjectInput = z.input<typeof CreateProjectInput>;

export async function createProject(db: Database, input: CreateProjectInput): Promise<Project> {
  const values = CreateProjectInput.parse(input);
  const [project] = await db.insert(projects).values(values).returning();
  if (!project) throw new Error("insert into projects returned no row");
  return project;
}

/** The project if it belongs to the account; null otherwise (never reveal others' projects). */
export async function getProjectForAccount(
  db: Database,
  accountId: string,
  id: string,
): Promise<Project | null> {
  const [project] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.id, id), eq(projects.accountId, accountId)));
  return project ?? null;
}

export async function listProjects(db: Database, accountId: string): Promise<Project[]> {
  return db.select().from(projects).where(eq(projects.accountId, accountId)).orderBy(projects.id);
}

export type ProjectRoleOfCaller = "owner" | ProjectRole;

/** Internal lookup by id (a generation's project, whoever owns it). */
export async function getProject(db: Database, id: string): Promise<Project | null> {
  const [project] = await db.select().from(projects).where(eq(projects.id, id));
  return project ?? null;
}

/**
 * The project with the caller's role in it: owner, or the role of a membership; null for a project
 * the account neither owns nor belongs to (never reveal that it exists).
 */
export async function getProjectAccess(
  db: Database,
  accountId: string,
  id: string,
): Promise<{ project: Project; role: ProjectRoleOfCaller } | null> {
  const [row] = await db
    .select({ project: projects, role: projectMembers.role })
    .from(projects)
    .leftJoin(
      projectMembers,
      and(eq(projectMembers.projectId, projects.id), eq(projectMembers.accountId, accountId)),
    )
    .where(
      and(
        eq(projects.id, id),
        or(eq(projects.accountId, accountId), isNotNull(projectMembers.role)),
      ),
    );
  if (!row) return null;
  return { project: row.project, role: row.project.accountId === accountId ? "owner" : row.role! };
}

/** Projects the account owns or is a member of, with its role, oldest first. */
export async function listProjectsFor(
  db: Database,
  accountId: string,
): Promise<{ project: Project; role: ProjectRoleOfCaller }[]> {
  const rows = await db
    .select({ project: projects, role: projectMembers.role })
    .from(projects)
    .leftJoin(
      projectMembers,
      and(eq(projectMembers.projectId, projects.id), eq(projectMembers.accountId, accountId)),
    )
    .where(or(eq(projects.accountId, accountId), isNotNull(projectMembers.role)))
    .orderBy(projects.id);
  return rows.map((r) => ({
    project: r.project,
    role: r.project.accountId === accountId ? "owner" : r.role!,
  }));
}

export type ProjectPatch = Partial<Pick<NewProject, "name" | "visibility" | "moderationPolicy">>;

export async function updateProject(
  db: Database,
  id: string,
  patch: ProjectPatch,
): Promise<Project | null> {
  if (Object.keys(patch).length === 0) return getProject(db, id);
  const [project] = await db.update(projects).set(patch).where(eq(projects.id, id)).returning();
  return project ?? null;
}

/** Adds an account to a project, or changes its role. */
export async function upsertProjectMember(
  db: Database,
  member: { projectId: string; accountId: string; role: ProjectRole },
): Promise<ProjectMember> {
  const [row] = await db
    .insert(projectMembers)
    .values(member)
    .onConflictDoUpdate({
      target: [projectMembers.projectId, projectMembers.accountId],
      set: { role: member.role },
    })
    .returning();
  if (!row) throw new Error("insert into project_members returned no row");
  return row;
}

export async function removeProjectMember(
  db: Database,
  projectId: string,
  accountId: string,
): Promise<boolean> {
  const removed = await db
    .delete(projectMembers)
    .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.accountId, accountId)))
    .returning({ accountId: projectMembers.accountId });
  return removed.length > 0;
}

export async function listProjectMembers(
  db: Database,
  projectIds: readonly string[],
): Promise<ProjectMember[]> {
  if (projectIds.length === 0) return [];
  return db
    .select()
    .from(projectMembers)
    .where(inArray(projectMembers.projectId, [...projectIds]))
    .orderBy(projectMembers.createdAt, projectMembers.accountId);
}

/** The distinct asset keys of a project's outputs, `limit` at a time after `after`. */
export async function listProjectAssetKeys(
  db: Database,
  projectId: string,
  { after = "", limit = 500 }: { after?: string; limit?: number } = {},
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ key: generations.assetKey })
    .from(generations)
    .where(
      and(
        eq(generations.projectId, projectId),
        isNotNull(generations.assetKey),
        gt(generations.assetKey, after),
      ),
    )
    .orderBy(generations.assetKey)
    .limit(limit);
  return rows.map((r) => r.key!);
}

export interface FeedPosition {
  updatedAt: Date;
  id: string;
}

/** The project's newest change: where a live feed starts. Null for a project without generations. */
export async function latestProjectChange(
  db: Database,
  projectId: string,
): Promise<FeedPosition | null> {
  const [row] = await db
    .select({ updatedAt: generations.updatedAt, id: generations.id })
    .from(generations)
    .where(eq(generations.projectId, projectId))
    .orderBy(desc(generations.updatedAt), desc(generations.id))
    .limit(1);
  return row ?? null;
}

/** Generations of the project created or changed after `after`, in the order they changed. */
export async function listProjectChanges(
  db: Database,
  projectId: string,
  after: FeedPosition | null,
  limit = 100,
): Promise<GenerationRow[]> {
  const filters = [eq(generations.projectId, projectId)];
  if (after) {
    filters.push(
      sql`(${generations.updatedAt}, ${generations.id}) > (${after.updatedAt.toISOString()}::timestamptz, ${after.id})`,
    );
  }
  return db
    .select()
    .from(generations)
    .where(and(...filters))
    .orderBy(asc(generations.updatedAt), asc(generations.id))
    .limit(limit);
}
