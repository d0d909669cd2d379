import { hasPrefix } from "../../contracts/ids.ts";
import type { Database } from "../../db/client/index.ts";
import { getGenerationForAccount } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { notFound } from "../errors/index.ts";

/** 404 generation_not_found, for a malformed id, an unknown one and another account's alike. */
const generationNotFound = (id: string) =>
  notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");

/** The caller's own generation `id`, or the 404 (never a hint that another account has it). */
export async function ownGeneration(
  db: Database,
  accountId: string,
  id: string,
): Promise<GenerationRow> {
  const row = hasPrefix(id, "generation") ? await getGenerationForAccount(db, accountId, id) : null;
  if (!row) throw generationNotFound(id);
  return row;
}
