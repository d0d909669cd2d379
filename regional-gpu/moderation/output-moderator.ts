import sharp from "sharp";
import type { ModerationPolicy } from "../../contracts/region-protocol.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import type { SafetyClassifier } from "./classifier-pool.ts";
import { confirmsFlags, DEFAULT_POLICY, judge, type Verdict } from "./policy.ts";

// Checks one generated image: resize to the classifier's square input (sharp: libvips on the libuv
// thread pool, off the event loop), classify on a worker thread, judge under the job's policy. A flag
// from the fast screen is re-judged by the larger confirming classifier when the policy allows: on
// abstract art the screen mistakes smooth skin-toned gradients for nudity about once in a hundred.

export interface ModerationCheck {
  /** The deciding verdict. */
  verdict: Verdict;
  /** The deciding classifier. */
  classifier: string;
  /** The screen's verdict, when it flagged the image and the confirming classifier decided. */
  screening?: { verdict: Verdict; classifier: string };
  /** Resize + wait for a worker + classify, both stages. */
  ms: number;
}

export interface OutputModeratorOptions {
  screen: SafetyClassifier;
  confirm?: SafetyClassifier | null;
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

export class OutputModerator {
  private readonly screen: SafetyClassifier;
  private readonly confirm: SafetyClassifier | null;

  constructor(opts: OutputModeratorOptions) {
    this.screen = opts.screen;
    this.confirm = opts.confirm ?? null;
  }

  async check(
    image: RawImage,
    policy: ModerationPolicy = DEFAULT_POLICY,
  ): Promise<ModerationCheck> {
    const started = performance.now();
    const verdictOf = async (classifier: SafetyClassifier) =>
      judge(await classifier.classify(await classifierInput(image, classifier.side)), policy);
    const screened = await verdictOf(this.screen);
    if (!screened.blocked || !this.confirm || !confirmsFlags(policy)) {
      return { verdict: screened, classifier: this.screen.id, ms: performance.now() - started };
    }
    const confirmed = await verdictOf(this.confirm);
    return {
      verdict: confirmed,
      classifier: this.confirm.id,
      screening: { verdict: screened, classifier: this.screen.id },
      ms: performance.now() - started,
    };
  }
}
