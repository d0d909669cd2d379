import { and, eq } from "drizzle-orm";
import { hasPrefix } from "../../contracts/ids.ts";
import type { Database } from "../../db/client/index.ts";
import { generations, type GenerationRow } from "../../db/schema/generations.ts";
import { projects } from "../../db/schema/projects.ts";
import { styleEmbeddings } from "../../db/schema/style-embeddings.ts";
import { ApiError } from "../errors/index.ts";
import { readableBy } from "./visibility.ts";

// A generation a caller may read for style: its own, or another account's published in a public
// project and not hidden. Anything else is the same 404 as an unknown id (nothing is revealed).

export async function readableGeneration(
  db: Database,
  accountId: string,
  id: string,
  param: string,
): Promise<{ row: GenerationRow; owned: boolean }> {
  const missing = () =>
    new ApiError({
      type: "not_found_error",
      code: "generation_not_found",
      message: `no such generation: ${id.slice(0, 64)}`,
      param,
    });
  if (!hasPrefix(id, "generation")) throw missing();
  const [found] = await db
    .select({ row: generations })
    .from(generations)
    .leftJoin(projects, eq(projects.id, generations.projectId))
    .leftJoin(styleEmbeddings, eq(styleEmbeddings.generationId, generations.id))
    .where(and(eq(generations.id, id), readableBy(accountId)));
  if (!found) throw missing();
  return { row: found.row, owned: found.row.accountId === accountId };
}
