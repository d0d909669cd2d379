import { pathToFileURL } from "node:url";
import { join } from "node:path";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { Database } from "../../db/client/index.ts";
import { upsertModelVersion } from "../../db/queries/models.ts";
import type { ModelVersion } from "../../db/schema/models.ts";
import {
  DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
  gpuCostMicrousd,
} from "../../edge/generations/pricing.ts";

/**
 * Registers a version written to the local model store as a candidate: it reaches unpinned traffic
 * only through a rollout step (and, when trained, only if it beat its parent offline).
 */
export function registerCandidate(
  db: Database,
  dir: string,
  manifest: ModelManifest,
): Promise<ModelVersion> {
  return upsertModelVersion(db, {
    model: manifest.name,
    version: manifest.version,
    sha256: manifest.sha256,
    uri: pathToFileURL(join(dir, manifest.file)).href,
    bytes: manifest.bytes,
    pipeline: manifest.pipeline,
    gpuMsPerMegapixel: manifest.gpu_ms_per_megapixel,
    pricePerMegapixelMicrousd: gpuCostMicrousd(
      manifest.gpu_ms_per_megapixel,
      DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD,
    ),
    manifest,
  });
}
