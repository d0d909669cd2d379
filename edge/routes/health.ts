import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";

/** GET /healthz: the process answers; region health as this isolate sees it. No I/O. */
export function healthRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({
      ok: true,
      environment: s.environment,
      time: new Date(s.clock()).toISOString(),
      regions: s.directory.describe(),
    });
  });
  return app;
}
