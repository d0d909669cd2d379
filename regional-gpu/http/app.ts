import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bodyLimit } from "hono/body-limit";
import { newId } from "../../contracts/ids.ts";
import {
  JobCancelRequest,
  REGION_PATHS,
  RegionJob,
  type JobCancelAnswer,
} from "../../contracts/region-protocol.ts";
import {
  InvalidObjectKeyError,
  RangeNotSatisfiableError,
  type ObjectStore,
} from "../../storage/object-store.ts";
import { InvalidRequestError, JobNotFoundError, RegionHttpError } from "../errors.ts";
import type { JobIntake } from "../intake/job-intake.ts";
import type { NodeLifecycle } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import { countIntake, metricsHandler, type MetricsSource } from "./metrics-route.ts";
import { ModelStoreUnreachableError } from "../models/model-errors.ts";
import { storeUnreachableResponse, warmModelRoute, type ModelWarmer } from "./models-warm-route.ts";
import { deleteObject, rangeNotSatisfiable, serveObject } from "./objects-route.ts";
import { keySetLookup, type RegionKeySet } from "../../contracts/region-keys.ts";
import { ReplayGuard } from "../../contracts/replay-guard.ts";
import { verifySignature } from "./verify-signature.ts";
import { textStyleRoute, type StyleModels } from "../style/text-style-route.ts";

// The regional node's HTTP surfaces. The public one (behind the region's load balancer, which
// forwards every path): the signed edge API under /v1 (job intake and cancel, stored objects,
// model warm-up) and the bare probes (/healthz liveness, /readyz 200 or 503, no details). The
// operational one (createRegionOpsApp, its own port inside the region's network): /metrics and
// /status. Errors are thrown as RegionHttpError and answered in the one onError below.

export interface RegionAppDeps {
  region: string;
  nodeId: string;
  /** This region's key, and the previous one during a rotation. */
  keys: RegionKeySet;
  intake: JobIntake;
  /** Loads models ahead of traffic (POST /v1/models/warm); absent: the route is not served. */
  models?: ModelWarmer & StyleModels;
  store: ObjectStore;
  lifecycle: NodeLifecycle;
  logger: Logger;
  /** name@version of the hot models and the provider they run on, for /readyz. */
  status: () => { warmModels: string[]; executionProvider: string };
  /** Added to every /v1 response, to stand in for distance when all regions run on one machine. */
  simulatedRttMs?: number;
  now?: () => number;
  /** Prometheus metrics: told every job submission's answer (served by the ops app). */
  metrics?: MetricsSource;
}

export type RegionOpsDeps = Pick<RegionAppDeps, "region" | "nodeId" | "lifecycle" | "status"> & {
  /** Served at GET /metrics. */
  metrics?: MetricsSource;
};

type Env = { Variables: { requestId: string } };

/** Jobs are small JSON; anything bigger is refused before it is read. */
const MAX_JOB_BYTES = 64 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function issueParam(path: PropertyKey[]): string | undefined {
  return path.length > 0 ? path.map(String).join(".") : undefined;
}

export function createRegionApp(deps: RegionAppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const rtt = deps.simulatedRttMs ?? 0;

  app.use("*", async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given && /^[\w.-]{1,128}$/.test(given) ? given : newId("request");
    c.set("requestId", requestId);
    await next();
    c.header("x-request-id", requestId);
  });
  if (deps.metrics) app.use(REGION_PATHS.jobs, countIntake(deps.metrics));

  app.use("/v1/*", async (_c, next) => {
    await next();
    if (rtt > 0) await sleep(rtt);
  });
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_JOB_BYTES,
      onError: () => {
        throw new InvalidRequestError("body_too_large", `body exceeds ${MAX_JOB_BYTES} bytes`, {
          status: 413,
        });
      },
    }),
  );
  const now = deps.now && { now: deps.now };
  const nonces = new ReplayGuard({ clock: deps.now });
  app.use("/v1/*", verifySignature({ keys: keySetLookup(deps.keys), nonces, ...now }));

  app.post(REGION_PATHS.jobs, async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      throw new InvalidRequestError("invalid_json", "body is not valid JSON");
    }
    const parsed = RegionJob.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issueParam(issue.path);
      const message = param ? `${param}: ${issue.message}` : issue.message;
      throw new InvalidRequestError("invalid_job", message, param ? { param } : {});
    }
    const job = parsed.data;
    const accepted = await deps.intake.accept(job);
    deps.logger.info("job accepted", {
      request_id: job.request_id,
      job_id: job.job_id,
      priority: job.priority,
      model: `${job.model}@${job.model_version}`,
      queue_position: accepted.queue_position,
    });
    return c.json(accepted, 202);
  });

  // REGION_PATHS.jobCancel(id) as a route pattern.
  app.post("/v1/jobs/:id/cancel", async (c) => {
    const jobId = c.req.param("id");
    const text = await c.req.text();
    // An empty body (an older edge) is a client's cancel.
    const body = JobCancelRequest.safeParse(text === "" ? {} : safeJson(text));
    if (!body.success)
      throw new InvalidRequestError("invalid_cancel", "body is not a JobCancelRequest");
    const { reason } = body.data;
    const state = await deps.intake.cancel(jobId);
    deps.metrics?.jobCanceled(reason, state);
    deps.logger.info("job cancel", {
      request_id: c.get("requestId"),
      job_id: jobId,
      reason,
      state,
    });
    if (state === "unknown") throw new JobNotFoundError(jobId);
    return c.json({ job_id: jobId, state } satisfies JobCancelAnswer, 200);
  });

  app.get("/v1/objects/:key", serveObject(deps.store));
  app.delete("/v1/objects/:key", deleteObject(deps.store));
  if (deps.models) {
    const warm = { models: deps.models, lifecycle: deps.lifecycle, logger: deps.logger };
    app.post(REGION_PATHS.modelsWarm, warmModelRoute(warm));
    app.post(REGION_PATHS.styleText, textStyleRoute(warm));
  }

  // Liveness and readiness for the load balancer: nothing about the node beyond up and ready.
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    throwUnlessReady(deps.lifecycle);
    return c.json({ status: "ready" });
  });

  handleErrors(app, deps.logger);
  return app;
}

function throwUnlessReady(lifecycle: NodeLifecycle): void {
  if (lifecycle.ready) return;
  const code = lifecycle.draining ? "region_draining" : "region_not_ready";
  throw new RegionHttpError("overloaded_error", code, `region node is ${lifecycle.phase}`);
}

/**
 * The node's operational endpoints, on OPS_PORT (never behind the public load balancer): GET
 * /metrics (Prometheus) and GET /status (readiness with the warm models, execution provider and
 * lifecycle phase), plus the same /healthz and /readyz as the public port.
 */
export function createRegionOpsApp(deps: RegionOpsDeps & { logger: Logger }): Hono<Env> {
  const app = new Hono<Env>();
  if (deps.metrics) app.get("/metrics", metricsHandler(deps.metrics));
  app.get("/healthz", (c) => c.json({ status: "ok", region: deps.region, node_id: deps.nodeId }));
  app.get("/readyz", (c) => {
    throwUnlessReady(deps.lifecycle);
    return c.json({ status: "ready" });
  });
  app.get("/status", (c) => {
    const { warmModels, executionProvider } = deps.status();
    return c.json(
      {
        status: deps.lifecycle.ready ? "ready" : deps.lifecycle.phase,
        region: deps.region,
        node_id: deps.nodeId,
        warm_models: warmModels,
        execution_provider: executionProvider,
      },
      deps.lifecycle.ready ? 200 : 503,
    );
  });
  handleErrors(app, deps.logger);
  return app;
}

function handleErrors(app: Hono<Env>, logger: Logger): void {
  app.notFound((c) =>
    errorResponse(c, new RegionHttpError("not_found_error", "route_not_found", "no such route")),
  );

  app.onError((err, c) => {
    if (err instanceof RegionHttpError) return errorResponse(c, err);
    if (err instanceof ModelStoreUnreachableError) {
      return errorResponse(c, storeUnreachableResponse(err));
    }
    if (err instanceof RangeNotSatisfiableError)
      return errorResponse(c, rangeNotSatisfiable(err.size));
    if (err instanceof InvalidObjectKeyError) {
      const known = new InvalidRequestError("invalid_object_key", err.message, { param: "key" });
      return errorResponse(c, known);
    }
    logger.error("unhandled error", { request_id: c.get("requestId"), path: c.req.path, err });
    return errorResponse(c, new RegionHttpError("api_error", "internal_error", "internal error"));
  });
}

function errorResponse(c: Context<Env>, err: RegionHttpError): Response {
  const requestId = c.get("requestId") ?? newId("request");
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  c.header("x-request-id", requestId);
  return c.json(err.body(requestId), err.status as ContentfulStatusCode);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
