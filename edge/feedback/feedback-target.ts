import { hasPrefix } from "../../contracts/ids.ts";
import type { Database } from "../../db/client/types.ts";
import { getGenerationWithVisibility } from "../../db/queries/reviews.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { invalidRequest, notFound } from "../errors/index.ts";
import { hiddenOutput } from "./hidden-output.ts";

export interface FeedbackTarget {
  row: GenerationRow;
  own: boolean;
  public: boolean;
}

/**
 * The generation the caller may give feedback on or refine: its own, or a public one (an output of
 * a public project). Anything else is 404, as if it did not exist; a public output hidden by
 * reports is 451 to everyone but its owner.
 */
export async function feedbackTarget(
  db: Database,
  accountId: string,
  id: string,
): Promise<FeedbackTarget> {
  const found = hasPrefix(id, "generation") ? await getGenerationWithVisibility(db, id) : null;
  const own = found?.row.accountId === accountId;
  if (!found || (!own && found.visibility !== "public")) {
    throw notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");
  }
  const { row } = found;
  if (!own && (row.reviewState === "pending" || row.reviewState === "removed")) {
    throw hiddenOutput(row.reviewState);
  }
  return { row, own, public: found.visibility === "public" };
}

/** Votes are on outputs: a generation that has not succeeded has none to judge. */
export function requireOutput(row: GenerationRow): void {
  if (row.status !== "succeeded") {
    throw invalidRequest(
      "generation_not_succeeded",
      `generation ${row.id} is ${row.status}: only a succeeded generation's output takes feedback`,
      "id",
    );
  }
}
