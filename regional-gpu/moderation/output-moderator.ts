import sharp from "sharp";
import type { ModerationPolicy, SafetyScores } from "../../contracts/region-protocol.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import { confirmsFlags, DEFAULT_POLICY, judge, type Verdict } from "./policy.ts";
import type { SafetyClassifier } from "./safety-classifier.ts";

// Checks generated images: resize to the classifier's square input (sharp: libvips on the libuv
// thread pool, off the event loop), classify, judge under each job's policy. A flag from the fast
// screen is re-judged by the larger confirming classifier when the policy allows: on abstract art
// the screen mistakes smooth skin-toned gradients for nudity about once in a hundred.
//
// Checks started together are classified together: the scheduler starts the checks of a generation
// batch in one synchronous pass, and they are gathered until the event loop turns (setImmediate), so
// one batch of images is one classifier run (and its flags one confirming run), as the generation
// batch was one session.run.

export interface ModerationCheck {
  /** The deciding verdict. */
  verdict: Verdict;
  /** The deciding classifier. */
  classifier: string;
  /** The screen's verdict, when it flagged the image and the confirming classifier decided. */
  screening?: { verdict: Verdict; classifier: string };
  /** From the check's start to its verdict: waiting for batch-mates, resize, classify, both stages. */
  ms: number;
}

export interface OutputModeratorOptions {
  screen: SafetyClassifier;
  confirm?: SafetyClassifier | null;
}

interface Pending {
  image: RawImage;
  policy: ModerationPolicy;
  started: number;
  resolve(check: ModerationCheck): void;
  reject(err: Error): void;
}

/** Raw RGB at side x side, stretched like nsfwjs's own resize (it ignores aspect ratio too). */
export async function classifierInput(image: RawImage, side: number): Promise<Uint8Array> {
  const { width, height, channels } = image;
  if (width === side && height === side) return image.data;
  const pixels = await sharp(image.data, { raw: { width, height, channels } })
    .resize(side, side, { fit: "fill" })
    .raw()
    .toBuffer();
  return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * Scores of each item by one classifier run. An item whose resize fails is rejected alone; a failed
 * run rejects every item in it. Resolves with the items that were scored.
 */
async function classifyTogether(
  classifier: SafetyClassifier,
  items: readonly Pending[],
): Promise<{ item: Pending; scores: SafetyScores }[]> {
  const inputs = await Promise.allSettled(
    items.map((item) => classifierInput(item.image, classifier.side)),
  );
  const ready: { item: Pending; pixels: Uint8Array }[] = [];
  inputs.forEach((input, i) => {
    if (input.status === "fulfilled") ready.push({ item: items[i]!, pixels: input.value });
    else items[i]!.reject(asError(input.reason));
  });
  if (ready.length === 0) return [];
  try {
    const scores = await classifier.classify(ready.map((r) => r.pixels));
    return ready.map(({ item }, i) => ({ item, scores: scores[i]! }));
  } catch (err) {
    for (const { item } of ready) item.reject(asError(err));
    return [];
  }
}

export class OutputModerator {
  private readonly screen: SafetyClassifier;
  private readonly confirm: SafetyClassifier | null;
  private pending: Pending[] = [];

  constructor(opts: OutputModeratorOptions) {
    this.screen = opts.screen;
    this.confirm = opts.confirm ?? null;
  }

  check(image: RawImage, policy: ModerationPolicy = DEFAULT_POLICY): Promise<ModerationCheck> {
    return new Promise((resolve, reject) => {
      this.pending.push({ image, policy, started: performance.now(), resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** Screens every check gathered so far in one run, then confirms their flags in one more. */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const screened = await classifyTogether(this.screen, batch);
    const reconsider: { item: Pending; screening: Verdict }[] = [];
    for (const { item, scores } of screened) {
      const verdict = judge(scores, item.policy);
      if (verdict.blocked && this.confirm && confirmsFlags(item.policy)) {
        reconsider.push({ item, screening: verdict });
        continue;
      }
      const ms = performance.now() - item.started;
      item.resolve({ verdict, classifier: this.screen.id, ms });
    }
    if (reconsider.length === 0 || !this.confirm) return;
    const confirmed = await classifyTogether(
      this.confirm,
      reconsider.map((r) => r.item),
    );
    for (const { item, scores } of confirmed) {
      const { screening } = reconsider.find((r) => r.item === item)!;
      item.resolve({
        verdict: judge(scores, item.policy),
        classifier: this.confirm.id,
        screening: { verdict: screening, classifier: this.screen.id },
        ms: performance.now() - item.started,
      });
    }
  }
}
