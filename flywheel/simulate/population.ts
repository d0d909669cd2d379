import { SeededRandom } from "../../regional-gpu/pipelines/seeded-random.ts";
import type { RawImage } from "../../regional-gpu/pipelines/pipeline.ts";

// The simulated users, pure and seeded. Each honest user has a hidden taste measured on pixels:
// how light an image is, b = mean of its channels / 255 (the reference model's outputs average
// 0.47; a new seed moves it by about 0.06, a new prompt by about 0.08, so people can prefer one
// output of a prompt to another). Users like light palettes, each from their own threshold, with
// noise per look. Spammers never look: they vote in bursts on whatever they see, liking outputs of
// a few prompts and disliking the rest (pushing the model their way).

export const PROMPTS = [
  "a quiet harbour at dawn",
  "mountain lake under a clear sky",
  "city lights at night",
  "an old forest path",
  "storm clouds over the sea",
  "a field of flowers in spring",
  "desert dunes at noon",
  "a frozen river in winter",
  "abstract waves and circles",
  "a garden after rain",
  "autumn leaves on a street",
  "a calm bay with boats",
] as const;

export interface SimUser {
  index: number;
  spammer: boolean;
  /** Lightness this user likes from (logistic midpoint). */
  threshold: number;
}

export interface PopulationOptions {
  users: number;
  spammerShare: number;
  seed: number;
}

export function makePopulation({ users, spammerShare, seed }: PopulationOptions): SimUser[] {
  const random = new SeededRandom(seed);
  const spammers = Math.max(1, Math.round(users * spammerShare));
  return Array.from({ length: users }, (_, index) => ({
    index,
    spammer: index < spammers,
    threshold: 0.5 + random.nextNormal() * 0.04,
  }));
}

/** Lightness of an image: the mean of its channels / 255. */
export function lightness(image: RawImage): number {
  let sum = 0;
  for (let p = 0; p < image.data.length; p++) sum += image.data[p]!;
  return sum / (255 * image.data.length);
}

/** Logistic slope of a user's like decision (smaller = pickier). */
const TEMPERATURE = 0.04;

export type Reaction = "like" | "dislike" | "none";

/** What an honest user does on seeing an image of lightness `w` (`u1`, `u2` uniform draws). */
export function react(user: SimUser, w: number, u1: number, u2: number): Reaction {
  const pLike = 1 / (1 + Math.exp(-(w - user.threshold) / TEMPERATURE));
  if (u1 < pLike) return "like";
  // Not liked: most say so, some just scroll on.
  return u2 < 0.9 ? "dislike" : "none";
}

/**
 * A spammer's vote, rating abuse as it is done: a ring that boosts one version likes every output of
 * the canary and dislikes every output of the default, in bursts, without fetching any of them.
 */
export function spamVote(version: string, canary: string): "like" | "dislike" {
  return version === canary ? "like" : "dislike";
}
