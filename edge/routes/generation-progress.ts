import { Hono } from "hono";
import { hasPrefix } from "../../contracts/ids.ts";
import { getGenerationForAccount } from "../../db/queries/generations.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { notFound } from "../errors/index.ts";
import { cancelGeneration } from "../generations/cancel-generation.ts";
import { generationEventStream } from "../generations/generation-event-stream.ts";
import { toGeneration } from "../generations/serialize.ts";
import { auth } from "../middleware/auth/index.ts";
import { baseUrl, serializeContext } from "./base-url.ts";
import { generationDeps } from "./generation-deps.ts";

/** GET /v1/generations/:id/events (server-sent events) and POST /v1/generations/:id/cancel. */
export function generationProgressRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const requireKey = auth({ authenticator: s.authenticator });
  const cancelDeps = { ...generationDeps(s), waitUntil: s.waitUntil };

  app.get("/:id/events", requireKey, async (c) => {
    const id = c.req.param("id");
    const row = hasPrefix(id, "generation")
      ? await getGenerationForAccount(s.db, c.var.caller.account.id, id)
      : null;
    if (!row) throw notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");
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
    s.waitUntil(stream.done);
    return c.body(stream.body, 200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // Proxies (nginx) must not buffer the stream.
      "x-accel-buffering": "no",
    });
  });

  app.post("/:id/cancel", requireKey, async (c) => {
    const id = c.req.param("id");
    if (!hasPrefix(id, "generation")) {
      throw notFound(`no such generation: ${id.slice(0, 64)}`, "generation_not_found");
    }
    const row = await cancelGeneration(
      {
        accountId: c.var.caller.account.id,
        generationId: id,
        requestId: c.var.requestId,
        callbackBase: baseUrl(c, s),
      },
      cancelDeps,
    );
    return c.json(await toGeneration(row, serializeContext(c, s)));
  });

  return app;
}
