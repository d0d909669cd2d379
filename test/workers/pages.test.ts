import { describe, expect, it } from "vitest";
import { STATIC_FILES } from "../../edge/pages/static-files.generated.ts";
import { edge } from "./helpers.ts";

// The Worker serves the pages from its own bundle (no filesystem on Workers), byte for byte what
// the pages state in their integrity attributes.

async function sha384(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
  return `sha384-${btoa(String.fromCharCode(...digest))}`;
}

describe("Worker entry: the playground and the dashboard", () => {
  it.each(["/", "/dashboard"])("serves %s under a nonce CSP with its files", async (path) => {
    const res = await edge(path);
    expect(res.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(
      res.headers.get("content-security-policy")!,
    )?.[1];
    expect(nonce).toBeTruthy();
    const html = await res.text();
    const [, src, integrity] = /<script src="([^"]+)" integrity="([^"]+)" nonce="([^"]+)"/.exec(
      html,
    )!;
    expect(html).toContain(`nonce="${nonce}"`);
    const file = await edge(src!);
    expect(file.status).toBe(200);
    expect(await sha384(await file.arrayBuffer())).toBe(integrity);
  });

  it("serves the stylesheet and the chart library from the bundle, immutable", async () => {
    const css = STATIC_FILES["pages.css"];
    const res = await edge(`/static/${css.name}`);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(await sha384(await res.arrayBuffer())).toBe(css.integrity);
  });
});
