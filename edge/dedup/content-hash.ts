import type { ModerationPolicy } from "../../contracts/region-protocol.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { sha256Hex } from "../lib/digest.ts";

// Zero-width and other format characters: invisible, and dropped by the model's tokenizer too.
const FORMAT_CHARS = /\p{Cf}/gu;

/**
 * The form of a prompt that dedup compares: NFKC, format characters removed, whitespace runs
 * collapsed to one space, trimmed, lowercase. The model's tokenizer erases at least these
 * differences, so two prompts equal here always give the same image.
 */
export function normalizePrompt(text: string): string {
  return text
    .normalize("NFKC")
    .replace(FORMAT_CHARS, "")
    .replace(/\s+/gu, " ")
    .trim()
    .toLowerCase()
    .normalize("NFKC");
}

export interface DedupInput {
  accountId: string;
  model: string;
  modelVersion: string;
  prompt: string;
  negativePrompt: string | null | undefined;
  seed: number;
  width: number;
  height: number;
  /** The parts of the style that decide the output (dedupStyleOf). */
  style: Record<string, unknown> | null | undefined;
  /** Output moderation decides whether bytes are served at all, so it is part of the key. */
  moderation: ModerationPolicy | undefined;
  /** An upscale by resampling: the sha256 of the image it scales (absent for every drawing). */
  resampled?: string;
}

/**
 * The `content_hash` of a generation: everything that determines its output. Scoped to the
 * account, so a cache hit never tells one tenant what another has generated.
 */
export function contentHashOf(input: DedupInput): Promise<string> {
  return sha256Hex(
    canonicalJson({
      v: 1,
      account: input.accountId,
      model: `${input.model}@${input.modelVersion}`,
      prompt: normalizePrompt(input.prompt),
      negative_prompt: normalizePrompt(input.negativePrompt ?? ""),
      seed: input.seed,
      width: input.width,
      height: input.height,
      style: input.style ?? null,
      moderation: input.moderation ?? { strictness: "standard" },
      resampled: input.resampled,
    }),
  );
}
