import type { Context } from "hono";
import { feedbackCounts } from "../../db/queries/feedback.ts";
import type { EdgeServices } from "../deps.ts";
import type { SerializeContext } from "../generations/serialize.ts";

/**
 * Base of absolute URLs the edge hands out (callbacks, outputs): the configured publicUrl only. A
 * request's Host never decides it, so a caller cannot make regions post events elsewhere.
 */
export const baseUrl = (_c: Context, s: EdgeServices) => s.publicUrl.replace(/\/+$/, "");

export const serializeContext = (c: Context, s: EdgeServices): SerializeContext => ({
  baseUrl: baseUrl(c, s),
  assetUrlSecret: s.secrets.assetUrl,
  assetUrlTtlS: s.tuning.assetUrlTtlS,
  now: s.clock(),
  feedbackCounts: (ids) => feedbackCounts(s.db, ids),
});
