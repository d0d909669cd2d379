import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "../app-env.ts";
import { cspNonce } from "../lib/nonce.ts";
import { API_KEY_SCHEME } from "./responses.ts";

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";

// Pinned: the reference page loads exactly this build (its CSP names the host), and the browser
// runs it only if its bytes hash to SCALAR_INTEGRITY (subresource integrity): the page where users
// paste their keys loads no script the CDN could change. document.test.ts checks the hash against
// the same version in node_modules (the `browser` file jsDelivr serves for the package).
export const SCALAR_CDN = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0";
export const SCALAR_INTEGRITY =
  "sha384-oH1C0RwqcwbVXkC+r8A+4qRoyEUQdtxAzOwumkxZtQBBcsy61FOoPt7B50OVJYYQ";

const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "Generative art API",
    version: "1.0.0",
    description:
      'Send a prompt, get an image back: the edge authenticates, moderates, and routes each generation to the regional GPU cluster expected to finish it soonest. Errors always use one envelope: `{ "error": { "type", "code", "message", "param"?, "request_id" } }`.',
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
  // Relative: the API is served by the same edge as this document, wherever it is deployed.
  servers: [{ url: "/", description: "The edge that served this document" }],
  tags: [
    { name: "Generations", description: "Create, follow, cancel and list generations." },
    { name: "Assets", description: "Generated images, cached at the edge." },
    {
      name: "Webhooks",
      description: "Signed (Standard Webhooks) notifications of terminal events.",
    },
    { name: "Projects", description: "Projects, their members and their live feed." },
    { name: "Keys", description: "API keys and their scopes." },
    { name: "Usage", description: "Usage and cost from the ledger; budgets and their alerts." },
    { name: "Catalog", description: "Models, regions and prices." },
    { name: "Operations", description: "Health of this edge." },
  ],
};

/** The docs page loads the pinned reference bundle and its fonts; its scripts carry a nonce. */
const docsCsp = (nonce: string) =>
  [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' https://cdn.jsdelivr.net`,
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.scalar.com",
    "font-src https://fonts.scalar.com https://cdn.jsdelivr.net data:",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");

/**
 * GET /openapi.json (OpenAPI 3.1, generated from the routes' zod definitions; built once) and
 * GET /docs (an interactive reference of it, with "try it" against this origin).
 */
export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", API_KEY_SCHEME, {
    type: "http",
    scheme: "bearer",
    description: "An API key (`gk_live_...` or `gk_test_...`) as `Authorization: Bearer <key>`.",
  });
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get(OPENAPI_PATH, (c) => {
    document ??= app.getOpenAPI31Document(DOCUMENT_CONFIG);
    c.header("Cache-Control", "public, max-age=300");
    c.header("Access-Control-Allow-Origin", "*");
    return c.json(document);
  });
  const reference = Scalar((c) => {
    const n = cspNonce();
    c.header("Content-Security-Policy", docsCsp(n));
    c.header("Cache-Control", "no-store");
    return { url: OPENAPI_PATH, pageTitle: DOCUMENT_CONFIG.info.title, cdn: SCALAR_CDN, nonce: n };
  });
  app.get(DOCS_PATH, async (c, next) => {
    const page = (await reference(
      c as unknown as Parameters<typeof reference>[0],
      next,
    )) as Response;
    const tag = `<script src="${SCALAR_CDN}"`;
    const html = await page.text();
    // Never serve the page with the bundle unpinned (a changed renderer would show up here).
    if (!html.includes(tag))
      throw new Error("the API reference page no longer loads the pinned bundle");
    const pinned = html.replace(
      tag,
      `${tag} integrity="${SCALAR_INTEGRITY}" crossorigin="anonymous"`,
    );
    return new Response(pinned, { status: page.status, headers: page.headers });
  });
}
