import type { z } from "zod";
import { ApiError, invalidRequest } from "../errors/index.ts";

type Issue = z.core.$ZodIssue;

/** `style.strength`, `webhook.events[0]`: the `param` of the envelope. */
export function paramOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

// Codes are a closed set derived from the schema (top-level field names), never from caller input.
function codeOf(issue: Issue): string {
  const field = typeof issue.path[0] === "string" ? issue.path[0] : "value";
  switch (issue.code) {
    case "invalid_type":
      return / received undefined$/.test(issue.message) ? "parameter_missing" : "invalid_type";
    case "too_big":
      return issue.origin === "string" ? `${field}_too_long` : "parameter_out_of_range";
    case "too_small":
      return issue.origin === "string" ? `${field}_too_short` : "parameter_out_of_range";
    case "invalid_value":
      return "invalid_value";
    case "invalid_format":
      return "invalid_format";
    default:
      return "invalid_parameter";
  }
}

/** The first zod issue as the 400 envelope: one clear message and the offending `param`. */
export function issueToApiError(issue: Issue): ApiError {
  if (issue.code === "unrecognized_keys") {
    const param = paramOf([...issue.path, issue.keys[0] ?? ""]);
    const names = issue.keys.map((k) => paramOf([...issue.path, k])).join(", ");
    const message =
      issue.keys.length === 1 ? `unknown parameter: ${names}` : `unknown parameters: ${names}`;
    return invalidRequest("unknown_parameter", message, param);
  }
  const param = paramOf(issue.path);
  if (param === "") {
    return invalidRequest("invalid_body", "request body must be a JSON object");
  }
  const code = codeOf(issue);
  if (code === "parameter_missing") {
    return invalidRequest(code, `${param} is required`, param);
  }
  const last = issue.path.at(-1);
  const message =
    typeof last === "string" && issue.message.startsWith(last)
      ? issue.message
      : `${param}: ${issue.message}`;
  return invalidRequest(code, message, param);
}

/** Parses `value` with `schema`, throwing the envelope of its first issue. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw issueToApiError(result.error.issues[0]!);
}
