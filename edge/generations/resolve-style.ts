import type { StyleReference } from "../../contracts/api.ts";
import { StyleSpec } from "../../contracts/model-manifest.ts";
import type { Database } from "../../db/client/index.ts";
import type { ResolvedModelVersion } from "../../db/queries/models.ts";
import type { GenerationStyle } from "../../db/schema/generations.ts";
import type { StyleEmbedding } from "../../db/schema/style-embeddings.ts";
import { unprocessable } from "../errors/index.ts";
import { readableGeneration } from "../search/readable-generation.ts";
import { styleRecordOf } from "../search/style-records.ts";

// A request's style, resolved once at acceptance into what every dispatch sends: the model must
// take a style (its manifest says so), the reference must be one the caller may read (404
// otherwise, as for an unknown id), and the reference must carry a vector of the model's style
// space. The vector travels with the job: regions need neither the reference's prompt nor its
// model, and a taste profile (a vector of the same space) will travel the same way.

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
