import {
  PROFILE_MAX_LIKES,
  PROFILE_MIN_LIKES,
  type StyleFromOutput,
  type StyleFromProfile,
  type StyleReference,
} from "../../contracts/api.ts";
import { StyleSpec } from "../../contracts/model-manifest.ts";
import type { Database } from "../../db/client/index.ts";
import type { ResolvedModelVersion } from "../../db/queries/models.ts";
import { likedOutputs } from "../../db/queries/style-embeddings.ts";
import type { GenerationStyle } from "../../db/schema/generations.ts";
import type { StyleEmbedding } from "../../db/schema/style-embeddings.ts";
import { unprocessable } from "../errors/index.ts";
import { readableGeneration } from "../search/readable-generation.ts";
import { styleRecordOf } from "../search/style-records.ts";

// A request's style, resolved once at acceptance into what every dispatch sends: the model must
// take a style (its manifest says so), the reference must be one the caller may read (404
// otherwise, as for an unknown id), and the reference must carry a vector of the model's style
// space. The vector travels with the job: regions need neither the reference's prompt nor its
// model, and a taste profile (a vector of the same space) travels the same way.

/** The manifest's style contract, or null when the model version takes no style. */
export function styleSpecOf(resolved: ResolvedModelVersion): StyleSpec | null {
  const parsed = StyleSpec.safeParse(resolved.version.manifest.style);
  return parsed.success ? parsed.data : null;
}

export async function resolveStyle(
  style: StyleReference | undefined,
  accountId: string,
  resolved: ResolvedModelVersion,
  db: Database,
): Promise<GenerationStyle | null> {
  if (style === undefined) return null;
  const model = `${resolved.model.name}@${resolved.version.version}`;
  const spec = styleSpecOf(resolved);
  if (!spec) {
    throw unprocessable(
      "style_not_supported",
      `${model} takes no style input; leave out \`style\` or pick a model version that has one`,
      "style",
    );
  }
  return "profile" in style
    ? resolveProfile(style, accountId, spec, model, db)
    : resolveReference(style, accountId, spec, model, db);
}

async function resolveReference(
  style: StyleFromOutput,
  accountId: string,
  spec: StyleSpec,
  model: string,
  db: Database,
): Promise<GenerationStyle> {
  const { row } = await readableGeneration(db, accountId, style.reference, "style.reference");
  const record = await styleRecordOf(db, row);
  const vector = record?.styleVector;
  if (!vector || record.styleSpace !== spec.space || vector.length !== spec.dims) {
    const why =
      row.status !== "succeeded"
        ? `it is ${row.status}`
        : `it was drawn by ${row.model}@${row.modelVersion}, which has no style vector ${model} can take`;
    throw unprocessable(
      "style_reference_unusable",
      `generation ${row.id} cannot be used as a style reference: ${why}`,
      "style.reference",
    );
  }
  return { ...style, space: spec.space, vector };
}

/**
 * The caller's taste profile: the mean style of the latest outputs the account liked (its own and
 * others' public ones alike: the profile is personal, unlike training data), in the model's style
 * space. Resolved at acceptance like a reference, so the dedup key and every dispatch carry the
 * vector as it was then; a new like changes the next request's profile.
 */
async function resolveProfile(
  style: StyleFromProfile,
  accountId: string,
  spec: StyleSpec,
  model: string,
  db: Database,
): Promise<GenerationStyle> {
  const liked = await likedOutputs(db, accountId, PROFILE_MAX_LIKES);
  const records = await Promise.all(
    liked.map(({ row, record }) => (record ? record : styleRecordOf(db, row))),
  );
  const usable = records.filter(
    (r): r is StyleEmbedding =>
      r !== null && r.styleSpace === spec.space && r.styleVector?.length === spec.dims,
  );
  const vector = usable.length >= PROFILE_MIN_LIKES ? meanStyleVector(usable, spec) : null;
  if (!vector) {
    throw unprocessable(
      "style_profile_empty",
      `your taste profile needs at least ${PROFILE_MIN_LIKES} liked outputs drawn in ${model}'s style space; you have ${usable.length}. Like outputs with POST /v1/generations/:id/feedback`,
      "style.profile",
    );
  }
  return { ...style, space: spec.space, vector, likes: usable.length };
}

/** The style as the API shows it: what was asked, not the vector it resolved to. */
export function publicStyleOf(style: GenerationStyle): StyleReference {
  return "profile" in style
    ? { profile: style.profile, strength: style.strength }
    : { reference: style.reference, strength: style.strength };
}

/** What of a style decides the output, for the dedup key: a profile's vector changes with likes. */
export function dedupStyleOf(style: GenerationStyle): Record<string, unknown> {
  return "profile" in style
    ? { profile: style.profile, strength: style.strength, vector: style.vector }
    : { reference: style.reference, strength: style.strength };
}

/**
 * One style vector for several outputs (a taste profile: the outputs an account liked): the
 * weighted mean of their style vectors in `spec`'s space, or null when none has one. The model
 * blends a style linearly (latent and palette moved towards it by strength), so the mean of
 * vectors of one space is a vector of that space: the look the outputs share. Records of another
 * space or length (another model, or none) are left out; weights default to 1 each.
 */
export function meanStyleVector(
  records: readonly Pick<StyleEmbedding, "styleSpace" | "styleVector">[],
  spec: Pick<StyleSpec, "space" | "dims">,
  weights?: readonly number[],
): number[] | null {
  const sum = new Float64Array(spec.dims);
  let total = 0;
  records.forEach((record, i) => {
    const vector = record.styleVector;
    const weight = weights?.[i] ?? 1;
    if (record.styleSpace !== spec.space || vector?.length !== spec.dims) return;
    if (!(weight > 0) || !Number.isFinite(weight)) return;
    for (let d = 0; d < spec.dims; d++) sum[d]! += vector[d]! * weight;
    total += weight;
  });
  if (total === 0) return null;
  return Array.from(sum, (v) => Math.fround(v / total));
}
