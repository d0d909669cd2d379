import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../db/client/types.ts";
import { feedback } from "../../db/schema/feedback.ts";
import { VOTER_RULE, voterWeight, type VoterStats } from "./voter-weight.ts";

/**
 * Per voting account, the numbers the fraud rule reads, over all its live votes (one query: a
 * window over the account's votes in time order marks the bursts).
 */
export async function voterStats(
  db: Database,
  accountIds?: readonly string[],
): Promise<Map<string, VoterStats>> {
  if (accountIds !== undefined && accountIds.length === 0) return new Map();
  const filters = [eq(feedback.testMode, false)];
  if (accountIds !== undefined) filters.push(inArray(feedback.accountId, [...accountIds]));
  const lagged = sql.raw(String(VOTER_RULE.burstVotes));
  const votes = db.$with("votes").as(
    db
      .select({
        accountId: feedback.accountId,
        kind: feedback.kind,
        fetched: feedback.fetched,
        // Time since the account's vote BURST_VOTES before this one: short means a burst.
        span: sql<string | null>`${feedback.updatedAt} - lag(${feedback.updatedAt}, ${lagged})
          over (partition by ${feedback.accountId} order by ${feedback.updatedAt}, ${feedback.id})`.as(
          "span",
        ),
      })
      .from(feedback)
      .where(and(...filters)),
  );
  const window = `${VOTER_RULE.burstWindowMs} milliseconds`;
  const rows = await db
    .with(votes)
    .select({
      accountId: votes.accountId,
      votes: sql<number>`count(*)::int`,
      blind: sql<number>`(count(*) filter (where not ${votes.fetched}))::int`,
      // A burst is what scripts do: votes in quick succession on outputs never looked at. A
      // person who fetched each output may rate a gallery quickly.
      burst: sql<number>`(count(*) filter (where ${votes.span} < ${window}::interval and not ${votes.fetched}))::int`,
      kinds: sql<number>`count(distinct ${votes.kind})::int`,
    })
    .from(votes)
    .groupBy(votes.accountId);
  return new Map(rows.map(({ accountId, ...stats }) => [accountId, stats]));
}

/** Each account's weight by the rule (accounts without live votes weigh 1). */
export async function voterWeights(
  db: Database,
  accountIds?: readonly string[],
): Promise<Map<string, number>> {
  const stats = await voterStats(db, accountIds);
  const weights = new Map<string, number>();
  for (const id of accountIds ?? stats.keys()) {
    const s = stats.get(id);
    weights.set(id, s ? voterWeight(s) : 1);
  }
  return weights;
}
