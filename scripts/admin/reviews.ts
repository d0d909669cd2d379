import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Database } from "../../db/client/index.ts";
import { feedbackCounts } from "../../db/queries/feedback.ts";
import { insertModerationEvent } from "../../db/queries/moderation-events.ts";
import { decideReview, listPendingReviews } from "../../db/queries/reviews.ts";
import { setStyleHidden } from "../../db/queries/style-embeddings.ts";
import { feedback } from "../../db/schema/feedback.ts";
import { generations } from "../../db/schema/generations.ts";
import { AdminError } from "./admin-error.ts";

// `npm run admin -- reviews list | approve ID | remove ID`: the queue of outputs hidden by reports.
// Every decision is a moderation event (stage `review`: approve `allow`, remove `block`). Removing
// marks the output (and every generation with the same bytes) removed at once, so every edge
// answers 451; the edges' sweep then deletes the bytes from the origin store and the edge store
// (R2) and drops cached copies.

export interface ReviewCommand {
  action: "list" | "approve" | "remove";
  generation?: string;
  reviewer: string;
  note?: string;
  wait: number;
}

export async function runReviewCommand(
  db: Database,
  cmd: ReviewCommand,
): Promise<Record<string, unknown>> {
  if (cmd.action === "list") return { reviews: await listReviews(db) };
  if (!cmd.generation)
    throw new AdminError("generation_required", `reviews ${cmd.action} needs a generation id`);
  const decision = cmd.action === "approve" ? "approved" : "removed";
  const at = new Date();
  const changed = await db.transaction(async (tx) => {
    const rows = await decideReview(tx, cmd.generation!, decision, at);
    // Style search follows: approved outputs are searchable again, removed ones never.
    await setStyleHidden(
      tx,
      rows.map((r) => r.id),
      decision === "removed",
    );
    for (const row of rows) {
      await insertModerationEvent(tx, {
        accountId: row.accountId,
        projectId: row.projectId,
        generationId: row.id,
        stage: "review",
        categories: await reportReasons(tx, row.id),
        matched: [
          {
            decision,
            by: cmd.reviewer,
            ...(cmd.note ? { note: cmd.note } : {}),
            ...(row.id !== cmd.generation ? { same_output_as: cmd.generation } : {}),
          },
        ],
        action: decision === "approved" ? "allow" : "block",
        createdAt: at,
      });
    }
    return rows;
  });
  if (changed.length === 0) {
    throw new AdminError(
      "review_not_open",
      cmd.action === "approve"
        ? `${cmd.generation} is not pending review (unknown id, or already decided)`
        : `${cmd.generation} is unknown or already removed`,
    );
  }
  const ids = changed.map((r) => r.id);
  const purgedAt = decision === "removed" ? await waitForPurge(db, ids, cmd.wait) : null;
  return {
    decision,
    generations: ids,
    ...(decision === "removed"
      ? {
          purged_at: purgedAt,
          purge:
            purgedAt === null
              ? "pending: the edge's sweep deletes the bytes (origin store, R2, caches) and sets purged_at"
              : "done",
        }
      : {}),
  };
}

async function listReviews(db: Database) {
  const pending = await listPendingReviews(db);
  const counts = await feedbackCounts(
    db,
    pending.map((r) => r.id),
  );
  return Promise.all(
    pending.map(async (r) => ({
      generation: r.id,
      account: r.accountId,
      project: r.projectId,
      prompt: r.prompt,
      asset_key: r.assetKey,
      opened_at: r.reviewOpenedAt?.toISOString() ?? null,
      reports: counts.get(r.id)?.reports ?? 0,
      reasons: await reportReasons(db, r.id),
    })),
  );
}

async function reportReasons(db: Database, generationId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ reason: feedback.reason })
    .from(feedback)
    .where(and(eq(feedback.generationId, generationId), eq(feedback.kind, "report")));
  return rows.map((r) => r.reason ?? "other").sort();
}

/** Polls until every removed generation is purged, or `waitS` passes; the last purge time or null. */
async function waitForPurge(db: Database, ids: string[], waitS: number): Promise<string | null> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const done = await db
      .select({ at: generations.outputPurgedAt })
      .from(generations)
      .where(and(inArray(generations.id, ids), isNotNull(generations.outputPurgedAt)));
    if (done.length === ids.length) {
      return new Date(Math.max(...done.map((d) => d.at!.getTime()))).toISOString();
    }
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}
