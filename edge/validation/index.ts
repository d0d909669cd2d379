export { issueToApiError, paramOf, parseOrThrow } from "./zod-issue.ts";
export { DEFAULT_MAX_BODY_BYTES, parseJson, readBodyText } from "./read-body.ts";
