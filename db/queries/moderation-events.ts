import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../client/types.ts";
import {
  moderationEvents,
  type ModerationEvent,
  type NewModerationEvent,
} from "../schema/moderation-events.ts";

/** Records one moderation decision (every block; flags and sampled allows where a caller wants). */
export async function insertModerationEvent(
  db: Database,
  values: NewModerationEvent,
): Promise<ModerationEvent> {
  const [row] = await db.insert(moderationEvents).values(values).returning();
  if (!row) throw new Error("insert into moderation_events returned no row");
  return row;
}

/** The account's moderation events, newest first; optionally those of one generation. */
export async function listModerationEvents(
  db: Database,
  accountId: string,
  { generationId, limit = 50 }: { generationId?: string; limit?: number } = {},
): Promise<ModerationEvent[]> {
  const filters = [eq(moderationEvents.accountId, accountId)];
  if (generationId !== undefined) filters.push(eq(moderationEvents.generationId, generationId));
  return db
    .select()
    .from(moderationEvents)
    .where(and(...filters))
    .orderBy(desc(moderationEvents.createdAt), desc(moderationEvents.id))
    .limit(limit);
}
