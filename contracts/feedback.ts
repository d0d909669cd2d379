import { z } from "./zod.ts";

// Feedback on outputs (../shared/API.md, "Feedback, refine, upscale, search"): the closed sets the
// API, the schema's CHECK constraints and the flywheel share.

export const FEEDBACK_KINDS = ["like", "dislike", "report"] as const;
export const FeedbackKind = z.enum(FEEDBACK_KINDS).openapi("FeedbackKind");
export type FeedbackKind = z.infer<typeof FeedbackKind>;

/**
 * Why: for a report, what is wrong with the output (the moderation categories plus the cases people
 * report that a classifier does not see); for a dislike, what the user did not like about it.
 */
export const FEEDBACK_REASONS = [
  // reports
  "sexual",
  "violence",
  "hate",
  "harassment",
  "self_harm",
  "illegal",
  "copyright",
  "spam",
  // dislikes
  "off_prompt",
  "low_quality",
  "style",
  // either
  "other",
] as const;
export const FeedbackReason = z.enum(FEEDBACK_REASONS).openapi("FeedbackReason");
export type FeedbackReason = z.infer<typeof FeedbackReason>;

export const FEEDBACK_COMMENT_MAX_CHARS = 1000;

/** What a reviewer decided, and where an output reported past the threshold stands. */
export const REVIEW_STATES = ["pending", "approved", "removed"] as const;
export const ReviewState = z.enum(REVIEW_STATES).openapi("ReviewState");
export type ReviewState = z.infer<typeof ReviewState>;

export const FeedbackRequest = z
  .strictObject({
    kind: FeedbackKind,
    reason: FeedbackReason.optional().describe(
      "Why: for a report, what is wrong (`sexual`, `violence`, ..., `other`); for a dislike, what missed (`off_prompt`, `low_quality`, `style`).",
    ),
    comment: z
      .string()
      .max(FEEDBACK_COMMENT_MAX_CHARS)
      .optional()
      .describe(`Free text for reviewers (at most ${FEEDBACK_COMMENT_MAX_CHARS} characters).`),
  })
  .openapi("FeedbackRequest");
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;

export const FeedbackObject = z
  .object({
    id: z.string(),
    object: z.literal("feedback"),
    generation: z.string(),
    kind: FeedbackKind,
    reason: FeedbackReason.nullable(),
    comment: z.string().nullable(),
    /** false when cast with a test-mode key (shown, never used to train or to hide outputs). */
    livemode: z.boolean(),
    created_at: z.string(),
    /** When the current kind was cast. */
    updated_at: z.string(),
  })
  .openapi("Feedback");
export type FeedbackObject = z.infer<typeof FeedbackObject>;

export const FeedbackList = z
  .object({
    object: z.literal("list"),
    data: z.array(FeedbackObject),
    next_cursor: z.string().nullable(),
  })
  .openapi("FeedbackList");

export const ListFeedbackQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  kind: FeedbackKind.optional(),
});

/** Votes held on a generation (every account's, test mode included). */
export const FeedbackCounts = z
  .object({
    likes: z.number().int().nonnegative(),
    dislikes: z.number().int().nonnegative(),
    reports: z.number().int().nonnegative(),
  })
  .openapi("FeedbackCounts");

/** Shown to the owner of an output reported past the threshold. */
export const GenerationReview = z
  .object({
    state: ReviewState,
    opened_at: z.string().nullable(),
    decided_at: z.string().nullable(),
  })
  .openapi("GenerationReview");
