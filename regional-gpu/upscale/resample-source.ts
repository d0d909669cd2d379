import { createHash } from "node:crypto";
import sharp from "sharp";
import type { JobSource, RegionJob } from "../../contracts/region-protocol.ts";
import type { ObjectStore } from "../../storage/object-store.ts";
import { JOB_FAILURE, JobFailure } from "../errors.ts";
import type { ModelRun } from "../models/model-pool.ts";
import type { RawImage } from "../pipelines/pipeline.ts";

// The upscale of models that cannot re-draw at a larger size (manifest `upscale: "resample"`): the
// parent's stored image scaled with a Lanczos-3 filter (libvips, through sharp). Its bytes come
// from this region's store when the parent was made here, else from the edge's signed URL; either
// way they must match the parent's sha256.

const FETCH_TIMEOUT_MS = 15_000;
/** A parent is at most a 2048x2048 PNG: anything much larger is not it. */
const MAX_SOURCE_BYTES = 64 * 1024 * 1024;

export interface SourceDeps {
  store: ObjectStore;
  fetch?: typeof fetch;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function sourceBytes(source: JobSource, deps: SourceDeps): Promise<Uint8Array> {
  const stored = await deps.store.get(source.key).catch(() => null);
  if (stored && sha256(stored.body) === source.sha256) return stored.body;
  const res = await (deps.fetch ?? fetch)(source.url, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`GET of the parent image answered ${res.status}`);
  const length = Number(res.headers.get("content-length") ?? 0);
  if (length > MAX_SOURCE_BYTES) throw new Error(`the parent image is ${length} bytes`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (sha256(bytes) !== source.sha256)
    throw new Error("the parent image does not match its sha256");
  return bytes;
}

/** `job`'s parent image scaled to the job's size (Lanczos-3), as raw RGB. */
export async function resampleSource(job: RegionJob, deps: SourceDeps): Promise<RawImage> {
  if (!job.source) throw new Error(`job ${job.job_id} has no source`);
  let bytes: Uint8Array;
  try {
    bytes = await sourceBytes(job.source, deps);
  } catch (err) {
    const message = `the parent image could not be read: ${(err as Error).message}`;
    throw new JobFailure(JOB_FAILURE.sourceUnavailable, message, err);
  }
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .toColourspace("srgb")
    .resize(job.width, job.height, { kernel: "lanczos3", fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new JobFailure(JOB_FAILURE.inference, "resample gave no RGB");
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

/** A batch of resample jobs (each has a batch key of its own: in practice one job). */
export async function resampleBatch(
  jobs: readonly RegionJob[],
  deps: SourceDeps,
): Promise<ModelRun> {
  const started = performance.now();
  const images = await Promise.all(jobs.map((job) => resampleSource(job, deps)));
  return { images, sessionMs: performance.now() - started };
}
