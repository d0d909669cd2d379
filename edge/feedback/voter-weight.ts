// How much one account's votes count (edge/feedback/README.md, "Fraud controls"). Pure: the numbers
// come from feedback-stats.ts, the rule is here, so it is tested without a database.

/** An account's live votes (test-mode votes are left out), as the rule reads them. */
export interface VoterStats {
  /** Votes it holds now (like, dislike, report). */
  votes: number;
  /** Of them, cast on an output it had never downloaded. */
  blind: number;
  /**
   * Of them, cast blind as the (BURST_VOTES + 1)th or later vote within BURST_WINDOW_MS (fast votes
   * on outputs the voter fetched are a person rating a gallery, not a burst).
   */
  burst: number;
  /** How many different kinds it used (1 when every vote is the same answer). */
  kinds: number;
}

export const VOTER_RULE = {
  /** A vote that is the 11th within one minute is part of a burst. */
  burstVotes: 10,
  burstWindowMs: 60_000,
  /** Share of weight a fully blind / fully bursty account keeps from each factor. */
  blindKeeps: 0.1,
  burstKeeps: 0.1,
  /** Every vote the same answer, over at least this many votes: the weight halves. */
  uniformMinVotes: 20,
  uniformKeeps: 0.5,
  /** No account weighs less than this (or more than 1). */
  floor: 0.02,
} as const;

/**
 * weight = (1 - 0.9 * blind/votes) * (1 - 0.9 * burst/votes) * (same answer over >= 20 votes ? 0.5 : 1),
 * clamped to [0.02, 1]. A new account with a few honest votes weighs 1; an account that votes in
 * bursts on outputs it never looked at, always the same way, weighs the floor.
 */
export function voterWeight(stats: VoterStats, rule = VOTER_RULE): number {
  if (stats.votes <= 0) return 1;
  const share = (n: number) => Math.min(1, Math.max(0, n / stats.votes));
  const blind = 1 - (1 - rule.blindKeeps) * share(stats.blind);
  const burst = 1 - (1 - rule.burstKeeps) * share(stats.burst);
  const uniform = stats.kinds <= 1 && stats.votes >= rule.uniformMinVotes ? rule.uniformKeeps : 1;
  return Math.min(1, Math.max(rule.floor, blind * burst * uniform));
}
