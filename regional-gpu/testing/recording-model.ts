import { join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import type { LoadedModel } from "../models/model-pool.ts";
import { PIPELINE_FACTORIES } from "../models/pipeline-factories.ts";
import type { ImageRequest, RawImage } from "../pipelines/pipeline.ts";
import type { ModelSource } from "../scheduler/scheduler.ts";
import type { TestModel } from "./reference-model.ts";

// Models for scheduler tests that record what reached the executor: the reference model on a real
// ONNX Runtime session whose every session.run is logged (batch dimension, pixels per image, when),
// and a paced stand-in executor with a fixed service time for ordering tests.

export interface SessionRunRecord {
  /** Date.now() when session.run was called and when it returned. */
  startedAt: number;
  endedAt: number;
  /** The batch dimension of the inputs. */
  batch: number;
  /** Pixels per image (the coords input's first dimension). */
  pixels: number;
}

export interface RecordingModel extends ModelSource {
  runs: SessionRunRecord[];
  release(): Promise<void>;
}

/** The reference model on a real CPU session; `runs` lists every session.run. */
export async function recordingReferenceModel(model: TestModel): Promise<RecordingModel> {
  const { manifest } = model;
  const dir = join(model.modelsDir, manifest.name, manifest.version);
  const session = await InferenceSession.create(join(dir, manifest.file), {
    executionProviders: ["cpu"],
  });
  const runs: SessionRunRecord[] = [];
  let sessionMs = 0;
  const recorded = new Proxy(session, {
    get(target, prop, receiver) {
      if (prop !== "run") return Reflect.get(target, prop, receiver);
      return async (feeds: InferenceSession.FeedsType) => {
        const startedAt = Date.now();
        const started = performance.now();
        const result = await target.run(feeds);
        sessionMs += performance.now() - started;
        runs.push({
          startedAt,
          endedAt: Date.now(),
          batch: Number(feeds.noise!.dims[0]),
          pixels: Number(feeds.coords!.dims[0]),
        });
        return result;
      };
    },
  });
  const pipeline = await PIPELINE_FACTORIES[manifest.pipeline]({
    manifest,
    dir,
    session: recorded,
  });
  const loaded: LoadedModel = {
    ref: model.ref,
    manifest,
    executionProvider: "cpu",
    async run(batch) {
      sessionMs = 0;
      const images = await pipeline.run(batch);
      return { images, sessionMs };
    },
  };
  return {
    runs,
    acquire: async () => loaded,
    release: () => session.release(),
  };
}

/** A stand-in executor: every batch takes `serviceMs` and yields flat grey images. */
export function pacedModel(manifest: ModelManifest, serviceMs: number): RecordingModel {
  const runs: SessionRunRecord[] = [];
  const loaded: LoadedModel = {
    ref: `${manifest.name}@${manifest.version}`,
    manifest,
    executionProvider: "cpu",
    async run(batch: ImageRequest[]) {
      const startedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, serviceMs));
      const { width, height } = batch[0]!;
      runs.push({ startedAt, endedAt: Date.now(), batch: batch.length, pixels: width * height });
      const images: RawImage[] = batch.map(() => ({
        width,
        height,
        channels: 3,
        data: new Uint8Array(width * height * 3).fill(128),
      }));
      return { images, sessionMs: serviceMs };
    },
  };
  return { runs, acquire: async () => loaded, release: async () => {} };
}
