import { randomBytes, timingSafeEqual } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { ZodError } from "zod";
import type { Database } from "../../db/client/index.ts";
import { AdminError } from "../admin/admin-error.ts";
import { runAdminCommand } from "../admin/commands.ts";

// A loopback-only control port of the running local stack: PGlite allows one process per data
// folder, so `npm run admin` hands its command to the stack that holds it. Token-protected.

export interface AdminServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startAdminServer(db: Database, pepper: string): Promise<AdminServer> {
  const token = randomBytes(32).toString("hex");
  const expected = Buffer.from(`Bearer ${token}`);
  const app = new Hono();
  app.post("/admin/commands", async (c) => {
    const given = Buffer.from(c.req.header("authorization") ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return c.json({ error: { code: "unauthorized", message: "bad admin token" } }, 401);
    }
    try {
      return c.json(await runAdminCommand(db, await c.req.json(), pepper));
    } catch (error) {
      if (error instanceof AdminError)
        return c.json({ error: { code: error.code, message: error.message } }, 400);
      if (error instanceof ZodError || error instanceof SyntaxError) {
        return c.json({ error: { code: "invalid_command", message: error.message } }, 400);
      }
      throw error;
    }
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolveServer(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
