import type { Context } from "hono";
import { TextStyleRequest, type TextStyleAnswer } from "../../contracts/region-protocol.ts";
import {
  InvalidRequestError,
  ModelVersionNotFoundError,
  NotAcceptingJobsError,
} from "../errors.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import { ModelNotFoundError } from "../models/model-errors.ts";
import type { LoadedModel } from "../models/model-pool.ts";
import { textStyleEmbedding } from "./text-style.ts";

// POST /v1/style/text-embedding (signed): the edge's text search asks a region to place a prompt in
// the style space. Interactive and small (a few drawings at 128x128), so it runs beside the job
// queue on the same executor rather than waiting in a lane.

export interface StyleModels {
  acquire(name: string, version: string): Promise<LoadedModel>;
}

export interface TextStyleRouteDeps {
  models: StyleModels;
  lifecycle: NodeLifecycle;
  logger: Logger;
}

const RETRY_AFTER_S = 5;

export const textStyleRoute = (deps: TextStyleRouteDeps) =>
  async function textStyle(c: Context) {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      throw new InvalidRequestError("invalid_json", "body is not valid JSON");
    }
    const parsed = TextStyleRequest.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.map(String).join(".");
      const message = param ? `${param}: ${issue.message}` : issue.message;
      throw new InvalidRequestError("invalid_text_style_request", message, param ? { param } : {});
    }
    if (!deps.lifecycle.ready) {
      throw new NotAcceptingJobsError(
        deps.lifecycle.draining ? "draining" : "not_ready",
        RETRY_AFTER_S,
      );
    }
    const { model, version, text } = parsed.data;
    let loaded: LoadedModel;
    try {
      loaded = await deps.models.acquire(model, version);
    } catch (err) {
      if (err instanceof ModelNotFoundError) throw new ModelVersionNotFoundError(model, version);
      throw err;
    }
    const started = performance.now();
    const embedding = await textStyleEmbedding(loaded, text);
    deps.logger.info("text style embedded", {
      model: `${model}@${version}`,
      ms: Math.round(performance.now() - started),
    });
    return c.json({ embedding } satisfies TextStyleAnswer, 200);
  };
