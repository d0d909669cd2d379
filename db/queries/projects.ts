import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../client/types.ts";
import { PROJECT_VISIBILITIES, projects, type Project } from "../schema/projects.ts";

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
