import { mkdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertBudget } from "../../db/queries/budgets.ts";
import { createProject } from "../../db/queries/projects.ts";
import {
  createEdgeFixture,
  TEST_SECRETS,
  type EdgeFixture,
} from "../../edge/testing/edge-fixture.ts";
import { startRegionStandIn, type RegionStandIn } from "../../edge/testing/region-stand-in.ts";
import { chromiumPath } from "./chromium.ts";

// The playground and the dashboard in headless Chromium, served by the Node edge: a live key is
// pasted, the generated form is filled (a bad value first, whose 400 shows next to its field),
// the image and its cost appear, then the dashboard shows the spend just made. No console error
// and no CSP violation on either page. SCREENSHOTS_DIR=docs/images refreshes the README's images.

const executablePath = chromiumPath();
if (!executablePath)
  console.warn("pages browser test skipped: no Chromium (apt-get install chromium)");

let edge: EdgeFixture;
let region: RegionStandIn;
let server: Server;
let origin: string;
let browser: Browser;
const shots = process.env.SCREENSHOTS_DIR ?? join(tmpdir(), "genart-page-shots");

function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || /Content Security Policy/i.test(msg.text()))
      problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return problems;
}

describe.skipIf(!executablePath)("the playground and the dashboard in Chromium", () => {
  beforeAll(async () => {
    // A real image of the reference model, as the region reports it.
    const png = await readFile(new URL("../../docs/images/sample.png", import.meta.url));
    region = await startRegionStandIn({
      name: "eu-west",
      lat: 53.35,
      lon: -6.26,
      secret: TEST_SECRETS.regionSigning,
      mode: { kind: "complete", bytes: new Uint8Array(png) },
    });
    // The region posts its events to the edge's configured base: the address the server gets.
    let handle: (req: Request) => Response | Promise<Response> = () =>
      new Response(null, { status: 503 });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: (req) => handle(req), port: 0, hostname: "127.0.0.1" }, () =>
        resolve(s as Server),
      ) as Server;
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    edge = await createEdgeFixture({ regions: [region.config], publicUrl: origin });
    handle = (req) => edge.app.fetch(req);
    await createProject(edge.db, { accountId: edge.owner.account.id, name: "Harbours" });
    // A month's budget the run's spend crosses half of: its bar and thresholds show.
    await upsertBudget(edge.db, {
      accountId: edge.owner.account.id,
      projectId: null,
      amountMicrousd: 20,
      rule: "relax",
      webhookUrl: null,
    });
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
    await mkdir(shots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await edge?.close();
    await region?.close();
  });

  it("generates from the form, shows image and cost, then the dashboard shows the spend", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems = watchProblems(page);
    // Nothing outside this edge is ever loaded.
    await page.route("**/*", (route) =>
      route.request().url().startsWith(origin) ? route.continue() : route.abort(),
    );

    await page.goto(`${origin}/`);
    await page.fill("#api-key", edge.owner.key);
    await page.click("#save-key");
    // The form comes from the OpenAPI schema: enums, nested objects, arrays, defaults.
    await page.locator("#field-prompt").waitFor();
    expect(await page.inputValue("#field-width")).toBe("512");
    expect(await page.locator("#field-priority option").allTextContents()).toEqual([
      "(default)",
      "fast",
      "standard",
      "relax",
    ]);
    expect(await page.locator('[data-field="webhook"] legend').textContent()).toBe("Webhook");
    expect(await page.locator("#field-webhook-events input[type=checkbox]").count()).toBe(4);
    expect(await page.inputValue("#field-style-strength")).toBe("0.5");

    await page.fill("#field-prompt", "a quiet harbour at dawn, teal and amber");
    await page.fill("#field-width", "500"); // not a multiple of 64: the 400 names `width`
    await page.click("#generate");
    await expect.poll(() => page.textContent("#field-width-error")).toContain("multiple of 64");
    await page.fill("#field-width", "512");
    await page.fill("#field-seed", "42");
    await page.selectOption("#field-priority", "fast");
    await page.click('[data-field="metadata"] button');
    await page.fill('[data-field="metadata"] .pair input >> nth=0', "campaign");
    await page.fill('[data-field="metadata"] .pair input >> nth=1', "harbours");
    expect(await page.textContent("#snippet-curl")).toContain('"seed":42');

    await page.click("#generate");
    await page.locator("#result-image").waitFor({ timeout: 30_000 });
    await expect.poll(() => page.textContent("#result-status")).toBe("succeeded");
    const cost = (await page.textContent("#result-cost"))!;
    expect(cost).toMatch(/^\$0\.0000\d+ · 13 GPU ms$/);
    expect(await page.textContent("#result-region")).toBe("eu-west");
    expect(await page.locator("#progress .step").allTextContents()).toContain("succeeded");
    // The image loaded (decoded, not a broken icon).
    expect(await page.$eval("#result-image", (img) => (img as HTMLImageElement).naturalWidth)).toBe(
      512,
    );
    await page.locator("#gallery figure").first().waitFor();
    // The served API has the feedback routes: the result offers like / report / refine.
    const actions = page.locator(".actions button");
    expect(await actions.allTextContents()).toEqual(["Like", "Report", "Refine"]);
    await actions.first().click();
    await expect.poll(() => actions.first().textContent()).toBe("Like ✓");
    await page.screenshot({ path: join(shots, "playground.png"), fullPage: true });

    // The same tab keeps the key (sessionStorage) for the dashboard.
    await page.goto(`${origin}/dashboard`);
    await page.locator("body[data-loaded=true]").waitFor({ timeout: 30_000 });
    const spent = cost.split(" ")[0]!;
    expect(await page.textContent("#tile-spend strong")).toBe(spent);
    expect(await page.textContent("#tile-requests strong")).toBe("1");
    expect(await page.locator("#chart-daily canvas").count()).toBe(1);
    expect(await page.locator("#table-model tbody tr").count()).toBe(1);
    expect(await page.textContent("#table-region tbody")).toContain("eu-west");
    expect(await page.textContent("#table-lane tbody")).toContain("fast");
    expect(await page.locator(".budget .tick.crossed").count()).toBe(1); // 50% of $0.00002
    expect(await page.textContent(".budget")).toContain("65%");
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });

    // The one 400 the test provoked is the only message.
    expect(problems).toEqual([
      "Failed to load resource: the server responded with a status of 400 (Bad Request)",
    ]);
    await page.close();
  }, 90_000);
});
