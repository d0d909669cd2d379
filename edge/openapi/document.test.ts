import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeFixture, expectError, type EdgeFixture } from "../testing/edge-fixture.ts";
import {
  CLIENT_PATHS_FILE,
  OPENAPI_FILE,
  readCommitted,
  renderClientPaths,
  renderOpenApiJson,
} from "./artifacts.ts";
import { DASHBOARD_PATH, PLAYGROUND_PATH, STATIC_PATH } from "../pages/page-html.ts";
import { DOCS_PATH, OPENAPI_PATH, SCALAR_CDN, SCALAR_INTEGRITY } from "./document.ts";

const PAGE_PATHS = [PLAYGROUND_PATH, DASHBOARD_PATH];

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

let edge: EdgeFixture;
let doc: Document;

beforeAll(async () => {
  edge = await createEdgeFixture({ regions: [] });
  const res = await edge.app.request(OPENAPI_PATH);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});
afterAll(() => edge.close());

// Hono path `/v1/generations/:id/events` as OpenAPI's `/v1/generations/{id}/events`.
const openApiPath = (path: string) =>
  path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_m, name: string) => `{${name}}`);

describe("GET /openapi.json", () => {
  it("is what is committed in docs/openapi.json and contracts/client (npm run openapi)", async () => {
    expect(await renderOpenApiJson(doc)).toBe(await readCommitted(OPENAPI_FILE));
    expect(await renderClientPaths(doc)).toBe(await readCommitted(CLIENT_PATHS_FILE));
  });

  it("documents every public route the app serves, and nothing it does not", () => {
    const served = new Set(
      edge.app.routes
        .filter((r) => r.method !== "ALL")
        .filter((r) => !r.path.startsWith("/internal/"))
        .filter((r) => r.path !== OPENAPI_PATH && r.path !== DOCS_PATH)
        // HTML pages and their files, not API operations.
        .filter((r) => !PAGE_PATHS.includes(r.path) && !r.path.startsWith(`${STATIC_PATH}/`))
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it("names every operation and says how each is authenticated", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(op.security, `${method} ${path}`).toBeDefined();
      }
    }
  });

  it("carries the request rules of the zod schemas", () => {
    const request = doc.components.schemas.CreateGenerationRequest as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(request.required).toEqual(["prompt"]);
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.width).toMatchObject({ minimum: 64, maximum: 2048, multipleOf: 64 });
    expect(request.properties.prompt).toMatchObject({ maxLength: 2000 });
  });

  it("is readable cross-origin and cacheable", async () => {
    const res = await edge.app.request(OPENAPI_PATH);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
  });
});

describe("GET /docs", () => {
  it("renders the interactive reference of /openapi.json under a nonce CSP", async () => {
    const res = await edge.app.request(DOCS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain(
      `<script src="${SCALAR_CDN}" integrity="${SCALAR_INTEGRITY}" crossorigin="anonymous" nonce="${nonce}">`,
    );
    expect(html).toContain(`"url": "${OPENAPI_PATH}"`);
    // Every script on the page carries this response's nonce, and the next response gets another.
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = await edge.app.request(DOCS_PATH);
    expect(again.headers.get("content-security-policy")).not.toBe(csp);
  });

  it("pins the bundle by its hash: the bytes of the pinned version in node_modules", async () => {
    const bytes = await readFile(
      new URL(
        "../../node_modules/@scalar/api-reference/dist/browser/standalone.js",
        import.meta.url,
      ),
    );
    expect(SCALAR_INTEGRITY).toBe(`sha384-${createHash("sha384").update(bytes).digest("base64")}`);
    const pinned = JSON.parse(
      await readFile(
        new URL("../../node_modules/@scalar/api-reference/package.json", import.meta.url),
        "utf8",
      ),
    ) as { version: string };
    expect(SCALAR_CDN).toContain(`@${pinned.version}`);
  });
});

describe("validation by the route definitions", () => {
  it.each([
    ["/v1/generations?limit=0", "limit", "parameter_out_of_range"],
    ["/v1/generations?limit=many", "limit", "invalid_type"],
    ["/v1/generations?status=done", "status", "invalid_value"],
    ["/v1/generations?colour=red", "colour", "unknown_parameter"],
  ])("GET %s answers 400 naming %s", async (path, param, code) => {
    const err = await expectError(await edge.call(path), 400, "invalid_request_error", code);
    expect(err.param).toBe(param);
  });
});
