export { PromptCategory, Strictness, type Level } from "./categories.ts";
export { moderatePrompt, type PromptMatch, type PromptVerdict } from "./moderate-prompt.ts";
export {
  blockedMessage,
  isPromptBlocked,
  policyMatchesOf,
  PROMPT_BLOCKED,
  promptBlockedError,
  promptModerationOf,
  promptStrictnessOf,
} from "./prompt-policy.ts";
