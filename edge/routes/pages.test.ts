import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPageFiles, GENERATED_FILE, renderGeneratedModule } from "../pages/build-pages.ts";
import { STATIC_FILES } from "../pages/static-files.generated.ts";
import { createEdgeFixture, type EdgeFixture } from "../testing/edge-fixture.ts";

let f: EdgeFixture;
beforeAll(async () => {
  f = await createEdgeFixture({ regions: [] });
});
afterAll(() => f.close());

describe("the pages", () => {
  it("the served files are what the sources build now (npm run pages:build)", async () => {
    expect(await renderGeneratedModule(await buildPageFiles())).toBe(
      await readFile(GENERATED_FILE, "utf8"),
    );
  }, 60_000);

  it.each(["/", "/dashboard"])(
    "%s: a strict CSP, no inline script, files with nonce and integrity",
    async (path) => {
      const res = await f.app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy")!;
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      const html = await res.text();
      const scripts = html.match(/<script[^>]*>[^<]*<\/script>/g) ?? [];
      expect(scripts).toHaveLength(1);
      for (const tag of scripts) {
        expect(tag).toMatch(
          /^<script src="\/static\/[a-z]+\.[0-9a-f]{12}\.js" integrity="sha384-[^"]+" nonce="[^"]+" defer><\/script>$/,
        );
        expect(tag).toContain(`nonce="${nonce}"`);
      }
      expect(html).not.toMatch(/<style|style="/);
      const again = await f.app.request(path);
      expect(again.headers.get("content-security-policy")).not.toBe(csp);
    },
  );

  it("serves each file by its hashed name, immutable, with the integrity the pages state", async () => {
    for (const file of Object.values(STATIC_FILES)) {
      const res = await f.app.request(`/static/${file.name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(file.contentType);
      expect(res.headers.get("cache-control")).toContain("immutable");
      const body = Buffer.from(await res.arrayBuffer());
      expect(`sha384-${createHash("sha384").update(body).digest("base64")}`).toBe(file.integrity);
      const etag = res.headers.get("etag")!;
      expect(
        (await f.app.request(`/static/${file.name}`, { headers: { "if-none-match": etag } }))
          .status,
      ).toBe(304);
    }
    expect((await f.app.request("/static/playground.000000000000.js")).status).toBe(404);
  });

  it("bundles the chart library from the project's dependencies (no CDN)", () => {
    const dashboard = STATIC_FILES["dashboard.js"].body;
    expect(dashboard).toContain("uplot");
    expect(dashboard).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    expect(STATIC_FILES["pages.css"].body).toContain(".uplot");
  });
});
