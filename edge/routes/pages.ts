import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { notFound } from "../errors/index.ts";
import { cspNonce } from "../lib/nonce.ts";
import {
  DASHBOARD_PATH,
  pageCsp,
  pageHtml,
  PLAYGROUND_PATH,
  STATIC_PATH,
  staticFileNamed,
  type PageName,
} from "../pages/page-html.ts";

const ONE_YEAR_S = 31_536_000;

/**
 * GET / (the playground), GET /dashboard (usage), and their files under /static/ (content-hashed,
 * immutable). The pages hold no data: the key pasted into them calls the API from the browser.
 */
export function pageRoutes(s: EdgeServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const assetOrigin = s.publicUrl ? new URL(s.publicUrl).origin : undefined;

  const page = (name: PageName) =>
    app.get(name === "playground" ? PLAYGROUND_PATH : DASHBOARD_PATH, (c) => {
      const nonce = cspNonce();
      c.header("Content-Security-Policy", pageCsp(nonce, assetOrigin));
      c.header("Cache-Control", "no-store");
      return c.html(pageHtml(name, nonce));
    });
  page("playground");
  page("dashboard");

  app.get(`${STATIC_PATH}/:name`, (c) => {
    const file = staticFileNamed(c.req.param("name"));
    if (!file) throw notFound("no such file", "file_not_found");
    const etag = `"${file.name}"`;
    c.header("Cache-Control", `public, max-age=${ONE_YEAR_S}, immutable`);
    c.header("ETag", etag);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    return c.body(file.body, 200, { "content-type": file.contentType });
  });

  return app;
}
