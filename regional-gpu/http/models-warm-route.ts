import type { Context } from "hono";
import { WarmModelRequest, type WarmModelAnswer } from "../../contracts/region-protocol.ts";
import {
  InvalidRequestError,
  ModelVersionNotFoundError,
  NotAcceptingJobsError,
  RegionHttpError,
} from "../errors.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import type { ModelStoreUnreachableError } from "../models/model-errors.ts";

// POST /v1/models/warm (signed): the edge asks a region to load a model version ahead of traffic.
// 200 when it is hot already, 202 while it loads in the background; 404 for an unknown version, 503
// when the node drains or the model store cannot be reached (the edge may ask another region).

export interface ModelWarmer {
  prefetch(name: string, version: string): Promise<"hot" | "loading" | null>;
}

export interface WarmRouteDeps {
  models: ModelWarmer;
  lifecycle: NodeLifecycle;
  logger: Logger;
}

const RETRY_AFTER_S = { draining: 30, storeUnreachable: 5 } as const;

/** How an unreachable model store is answered, on this route and on job intake. */
export function storeUnreachableResponse(err: ModelStoreUnreachableError): RegionHttpError {
  return new RegionHttpError("overloaded_error", err.code, err.message, {
    retryAfterS: RETRY_AFTER_S.storeUnreachable,
  });
}

export const warmModelRoute = (deps: WarmRouteDeps) =>
  async function warmModel(c: Context) {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      throw new InvalidRequestError("invalid_json", "body is not valid JSON");
    }
    const parsed = WarmModelRequest.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.map(String).join(".");
      throw new InvalidRequestError(
        "invalid_warm_request",
        param ? `${param}: ${issue.message}` : issue.message,
        param ? { param } : {},
      );
    }
    if (deps.lifecycle.draining) {
      throw new NotAcceptingJobsError("draining", RETRY_AFTER_S.draining);
    }
    const { model, version } = parsed.data;
    const state = await deps.models.prefetch(model, version);
    if (state === null) throw new ModelVersionNotFoundError(model, version);
    deps.logger.info("model warm requested", { model: `${model}@${version}`, state });
    const answer: WarmModelAnswer = { model, version, state };
    return c.json(answer, state === "hot" ? 200 : 202);
  };
