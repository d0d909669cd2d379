import { z } from "./zod.ts";

// The one error envelope of API.md, shared by the edge and the regions.
export const ErrorType = z
  .enum([
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "idempotency_error",
    "content_policy_violation",
    "rate_limit_error",
    "quota_exceeded_error",
    "overloaded_error",
    "api_error",
  ])
  .openapi("ErrorType");
export type ErrorType = z.infer<typeof ErrorType>;

/** A span of a request field that moderation matched: UTF-16 offsets into the original string. */
export const PolicyMatch = z
  .object({
    param: z.string(),
    category: z.string(),
    start: z.number().int().nonnegative(),
    end: z.number().int().nonnegative(),
    text: z.string(),
  })
  .openapi("PolicyMatch");
export type PolicyMatch = z.infer<typeof PolicyMatch>;

export const ErrorBody = z
  .object({
    error: z.object({
      type: ErrorType,
      code: z.string(),
      message: z.string(),
      param: z.string().optional(),
      request_id: z.string().optional(),
      categories: z.array(z.string()).optional(),
      /** content_policy_violation: what matched, and where. */
      matches: z.array(PolicyMatch).optional(),
      /** The generation the error is recorded on (a blocked prompt's is kept, status blocked). */
      generation: z.string().optional(),
    }),
  })
  .openapi("ErrorBody");
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The HTTP status each error type is answered with (413 is the one status/type pair not listed here). */
export const STATUS_OF_ERROR_TYPE: Record<ErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  idempotency_error: 409,
  content_policy_violation: 422,
  rate_limit_error: 429,
  quota_exceeded_error: 402,
  overloaded_error: 503,
  api_error: 500,
};
