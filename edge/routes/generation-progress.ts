import { ApiError } from "../errors/index.ts";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { Generation } from "../../contracts/api.ts";
import { z } from "../../contracts/zod.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { cancelGeneration } from "../generations/cancel-generation.ts";
import { generationEventStream } from "../generations/generation-event-stream.ts";
import { ownGeneration } from "../generations/own-generation.ts";
import { toGeneration } from "../generations/serialize.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  GenerationIdParams,
  headerParameter,
  jsonContent,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { baseUrl, serializeContext } from "./base-url.ts";
import { generationDeps } from "./generation-deps.ts";

const eventsRoute = createRoute({
  operationId: "streamGenerationEvents",
  method: "get",
  path: "/{id}/events",
  summary: "Follow a generation (server-sent events)",
  description:
    "Events `queued`, `routed`, `running`, then one of `succeeded`, `failed`, `blocked`, `canceled`; each event's `data` is the Generation, its `id` lets a reconnect resume with `Last-Event-ID`. The stream ends after the terminal event.",
  tags: ["Generations"],
  security: requiresScope("generations:read"),
  parameters: [
    headerParameter(
      "Last-Event-ID",
      "Resume after this event (EventSource sends it on reconnect).",
    ),
  ],
  request: { params: GenerationIdParams },
  responses: {
    200: {
      description: "`text/event-stream`: one event per state change, `data` a Generation.",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses(401, 404),
  },
});

const cancelRoute = createRoute({
  operationId: "cancelGeneration",
  method: "post",
  path: "/{id}/cancel",
  summary: "Cancel a generation",
  description:
    "A generation that has not started is `canceled` and its reserved spend refunded; one already running or ended answers 409 (`generation_already_started` / `generation_already_finished`).",
  tags: ["Generations"],
  security: requiresScope("generations:write"),
  request: { params: GenerationIdParams },
  responses: {
    200: jsonContent(Generation, "The canceled generation."),
    ...errorResponses(401, 404, 409),
  },
});

/** GET /v1/generations/:id/events (server-sent events) and POST /v1/generations/:id/cancel. */
export function generationProgressRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const cancelDeps = generationDeps(s);

  app.openapi({ ...eventsRoute, middleware: guard(eventsRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await ownGeneration(s.db, c.var.caller.account.id, id);
    const release = s.limits.hold("stream", c.var.caller.account.id);
    if (!release) {
      throw new ApiError({
        type: "rate_limit_error",
        code: "too_many_event_streams",
        message: `at most ${s.tuning.maxEventStreams} event streams may be open at once per account`,
        headers: { "Retry-After": "5" },
      });
    }
    const ctx = serializeContext(c, s);
    const stream = generationEventStream(row, c.req.header("last-event-id"), {
      db: s.db,
      notifier: s.notifier,
      serialize: (r) => toGeneration(r, { ...ctx, now: s.clock() }),
      log: s.log,
      pollMs: s.tuning.eventsPollMs,
      keepAliveMs: s.tuning.eventsKeepAliveMs,
      maxStreamMs: s.tuning.eventsMaxStreamMs,
    });
    // The stream outlives the handler: runtimes keep its resources (the database) until it ends.
    s.waitUntil(stream.done.finally(release));
    return c.body(stream.body, 200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // Proxies (nginx) must not buffer the stream.
      "x-accel-buffering": "no",
    });
  });

  app.openapi({ ...cancelRoute, middleware: guard(cancelRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await cancelGeneration(
      {
        accountId: c.var.caller.account.id,
        generationId: id,
        requestId: c.var.requestId,
        callbackBase: baseUrl(c, s),
      },
      cancelDeps,
    );
    return c.json(await toGeneration(row, serializeContext(c, s)), 200);
  });

  return app;
}
