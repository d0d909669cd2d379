import type {
  JobEvent,
  ModerationJudgement,
  RegionJob,
  StoredObject,
} from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure } from "../errors.ts";
import { publishImage } from "../output/publish.ts";
import type { RawImage } from "../pipelines/pipeline.ts";
import type { OutputModerator } from "./output-moderator.ts";
import type { Verdict } from "./policy.ts";
import { quarantineImage } from "./quarantine.ts";

// Every generated image passes here between inference and the edge: moderated under the job's
// policy, then published at its public key, or quarantined when blocked. Nothing is stored publicly
// before its verdict, and an image that cannot be checked fails its job (fail closed).

type Blocked = Extract<JobEvent, { type: "blocked" }>;

/** The moderation fields of a `blocked` event. */
export type BlockedVerdict = Pick<
  Blocked,
  "categories" | "scores" | "thresholds" | "classifier" | "screening" | "quarantine_key"
>;

interface Stages {
  encodeMs: number;
  uploadMs: number;
  /** Absent when the image was not checked (publishUnchecked). */
  moderationMs?: number;
}

export type GatedOutput =
  | (Stages & { kind: "published"; output: StoredObject; flag?: ModerationJudgement })
  | (Stages & { kind: "blocked"; blocked: BlockedVerdict });

const judgement = (verdict: Verdict, classifier: string): ModerationJudgement => ({
  classifier,
  categories: verdict.categories,
  scores: verdict.scores,
});

/** Publishes with no check at all: only for scheduler tests that load no classifier. */
export async function publishUnchecked(store: ObjectStore, image: RawImage): Promise<GatedOutput> {
  const published = await publishImage(store, image);
  const { encodeMs, uploadMs } = published;
  return { kind: "published", output: published.object, encodeMs, uploadMs };
}

export class OutputGate {
  private readonly store: ObjectStore;
  private moderator: OutputModerator | null;

  constructor(opts: { store: ObjectStore; moderator?: OutputModerator }) {
    this.store = opts.store;
    this.moderator = opts.moderator ?? null;
  }

  /** Sets the moderator once its classifiers are loaded (a node takes jobs only after that). */
  attach(moderator: OutputModerator): void {
    this.moderator = moderator;
  }

  async pass(job: RegionJob, image: RawImage): Promise<GatedOutput> {
    let check;
    try {
      if (!this.moderator) throw new Error("the output moderator is not loaded");
      check = await this.moderator.check(image, job.moderation);
    } catch (err) {
      const message = `output moderation failed: ${(err as Error).message}`;
      throw new JobFailure(JOB_FAILURE.moderation, message, err);
    }
    const { verdict, screening } = check;
    if (verdict.blocked) {
      const stored = await quarantineImage(this.store, image, {
        jobId: job.job_id,
        categories: verdict.categories,
      });
      return {
        kind: "blocked",
        encodeMs: stored.encodeMs,
        uploadMs: stored.uploadMs,
        moderationMs: check.ms,
        blocked: {
          categories: verdict.categories,
          scores: verdict.scores,
          thresholds: verdict.thresholds,
          classifier: check.classifier,
          ...(screening && { screening: judgement(screening.verdict, screening.classifier) }),
          quarantine_key: stored.key,
        },
      };
    }
    const published = await publishImage(this.store, image);
    return {
      kind: "published",
      output: published.object,
      encodeMs: published.encodeMs,
      uploadMs: published.uploadMs,
      moderationMs: check.ms,
      ...(screening && { flag: judgement(screening.verdict, screening.classifier) }),
    };
  }
}
