import { and, eq, or, sql, type SQL } from "drizzle-orm";
import { generations } from "../../db/schema/generations.ts";
import { projects } from "../../db/schema/projects.ts";
import { styleEmbeddings } from "../../db/schema/style-embeddings.ts";
import { visibleToOthers } from "../../db/queries/reviews.ts";

// Who may see a generation's output for style purposes, as SQL over `generations` left-joined
// with `projects` (its project) and `style_embeddings` (its style record): one rule for references,
// "more like this" and the rows search hands back.

/** A succeeded output of a public project that is not hidden (by search or by review): anyone's to see. */
export const shownToEveryone = (): SQL =>
  and(
    eq(projects.visibility, "public"),
    eq(generations.status, "succeeded"),
    sql`coalesce(${styleEmbeddings.hidden}, false) = false`,
    visibleToOthers(),
  )!;

/** The viewer's own generations (any state), and what everyone may see. */
export const readableBy = (accountId: string): SQL =>
  or(eq(generations.accountId, accountId), shownToEveryone())!;

/** Search results: succeeded and not hidden, the viewer's own or public. */
export const searchableBy = (accountId: string): SQL =>
  and(
    eq(generations.status, "succeeded"),
    sql`coalesce(${styleEmbeddings.hidden}, false) = false`,
    or(eq(generations.accountId, accountId), eq(projects.visibility, "public")),
  )!;
