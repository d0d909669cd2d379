import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_PATH, SCALAR_CDN } from "../../edge/openapi/document.ts";
import { createEdgeFixture, type EdgeFixture } from "../../edge/testing/edge-fixture.ts";
import { chromiumPath } from "./chromium.ts";

// GET /docs in a real browser: the pinned reference bundle (served here from the same version in
// node_modules, as the CDN would) renders the edge's own /openapi.json under the page's CSP.

const executablePath = chromiumPath();
if (!executablePath) {
  console.warn("api-docs browser test skipped: no Chromium (apt-get install chromium)");
}

let edge: EdgeFixture;
let server: Server;
let origin: string;
let browser: Browser;

describe.skipIf(!executablePath)("/docs in Chromium", () => {
  beforeAll(async () => {
    edge = await createEdgeFixture({ regions: [] });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: edge.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(s as Server),
      ) as Server;
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await edge?.close();
  });

  it("renders every operation of /openapi.json, with no CSP violation", async () => {
    // Not in the package's exports: read it from node_modules (the devDependency pins 1.76.0).
    const bundle = await readFile(
      new URL(
        "../../node_modules/@scalar/api-reference/dist/browser/standalone.js",
        import.meta.url,
      ),
    );
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
    page.on("pageerror", (err) => problems.push(err.message));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === SCALAR_CDN) {
        // The page loads it with crossorigin="anonymous" (subresource integrity): CORS as jsDelivr sends.
        return route.fulfill({
          body: bundle,
          contentType: "text/javascript",
          headers: { "access-control-allow-origin": "*" },
        });
      }
      // Only this edge and the pinned bundle: fonts and anything else stay offline here.
      return url.startsWith(origin) ? route.continue() : route.abort();
    });

    await page.goto(`${origin}${DOCS_PATH}`);
    // The first tag's operations are rendered at once; later tags as the reader scrolls to them.
    for (const title of [
      "Create a generation",
      "List generations",
      "Follow a generation (server-sent events)",
      "Cancel a generation",
    ]) {
      await page.getByText(title, { exact: true }).first().waitFor({ timeout: 30_000 });
    }
    const text = await page.locator("body").innerText();
    for (const tag of ["Assets", "Webhooks", "Operations"]) expect(text).toContain(tag);
    const csp = problems.filter((p) => /Content Security Policy/i.test(p));
    expect(csp).toEqual([]);
    await page.close();
  }, 90_000);
});
