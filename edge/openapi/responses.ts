import { z } from "../../contracts/zod.ts";
import { ErrorBody } from "../../contracts/errors.ts";
import type { Scope } from "../../contracts/keys.ts";

// Building blocks of the route definitions: the error responses of API.md, the bearer key, headers.

export const API_KEY_SCHEME = "apiKey";
/** `security` of a route that needs `Authorization: Bearer <key>`, of any scope. */
export const requiresKey = [{ [API_KEY_SCHEME]: [] }];

/**
 * `security` of a route that needs a key with `scope` (OpenAPI 3.1 lets a bearer scheme's
 * requirement list the roles it needs). `routeScope(route)` enforces what this states.
 */
export const requiresScope = (scope: Scope) => [{ [API_KEY_SCHEME]: [scope] }];

const ERRORS = {
  400: "Invalid request: the envelope names the offending `param`.",
  401: "Missing, malformed, unknown or revoked API key.",
  402: "Past a spend limit: the plan's monthly cap or cost per request, or a budget with the `stop` rule.",
  403: "Not allowed: the key lacks the route's scope (`missing_scope`), a private asset without the owner's key, or a bad or expired signature.",
  404: "No such resource for this key (another account's resources are 404 too).",
  409: "Conflict: an Idempotency-Key reused with another body, or a cancel too late.",
  413: "Request body larger than the limit.",
  422: "Content policy violation (`categories` and `matches` name what was matched), or a request the model or the data cannot honour (e.g. `style_not_supported`).",
  451: "The output is hidden after reports, pending review (`output_under_review`), or was removed (`output_removed`); its owner still sees a pending one.",
  429: "Rate or concurrency limit: see `Retry-After` and the `RateLimit` headers.",
  503: "No region can take the job now; retry after `Retry-After`.",
} as const;
export type ErrorStatus = keyof typeof ERRORS;

const envelope = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBody } },
});

/** The error responses a route can answer, each with the one envelope of API.md. */
export function errorResponses<S extends ErrorStatus>(
  ...statuses: S[]
): Record<S, ReturnType<typeof envelope>> {
  const out = {} as Record<S, ReturnType<typeof envelope>>;
  for (const status of statuses) out[status] = envelope(ERRORS[status]);
  return out;
}

export const jsonContent = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * A JSON request body declared by reference to a registered schema: the jsonBody middleware reads
 * (bounded: 413), parses and validates it, so the router does not validate it a second time.
 */
export const jsonRequestBody = (schemaName: string) => ({
  required: true,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${schemaName}` } } },
});

/** `{id}` of a path, with an example. */
export const idParams = (example: string) =>
  z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example }) });

/** `{id}` of a generation route. */
export const GenerationIdParams = z.object({
  id: z
    .string()
    .openapi({ param: { name: "id", in: "path" }, example: "gen_01jd9n2b3c4d5e6f7g8h9j0k1m" }),
});

export const RequestIdHeader = z.string().openapi({
  description: "The request's id (also in error bodies as `request_id`): quote it to support.",
});

/**
 * An optional request header, declared in the document only: a zod header schema would be parsed
 * on every request just to accept any string; the code that reads the header validates it.
 */
export const headerParameter = (name: string, description: string, example?: string) => ({
  name,
  in: "header" as const,
  required: false,
  description,
  schema: { type: "string" as const, ...(example && { example }) },
});
