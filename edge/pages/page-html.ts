import { STATIC_FILES, type StaticFile } from "./static-files.generated.ts";

// The two pages' HTML: a static shell whose only scripts are files served by this edge, each
// with this response's nonce and its integrity hash. No inline script or style anywhere.

export const PLAYGROUND_PATH = "/";
export const DASHBOARD_PATH = "/dashboard";
export const STATIC_PATH = "/static";

export type PageName = "playground" | "dashboard";

const TITLES: Record<PageName, string> = {
  playground: "Playground",
  dashboard: "Usage dashboard",
};

export const staticUrl = (file: StaticFile) => `${STATIC_PATH}/${file.name}`;

/**
 * The pages' policy: scripts only with this response's nonce (the edge's own files), styles and
 * images from this origin (outputs from `assetOrigin` too), API calls to this origin.
 */
export function pageCsp(nonce: string, assetOrigin?: string): string {
  const images = ["'self'", "data:", "blob:", ...(assetOrigin ? [assetOrigin] : [])].join(" ");
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    `img-src ${images}`,
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

const escape = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll('"', "&quot;");

function nav(page: PageName): string {
  const link = (href: string, name: PageName | "docs", label: string) =>
    `<a href="${href}"${name === page ? ' aria-current="page"' : ""}>${label}</a>`;
  return `<nav>${link(PLAYGROUND_PATH, "playground", "Playground")}${link(DASHBOARD_PATH, "dashboard", "Dashboard")}${link("/docs", "docs", "API reference")}</nav>`;
}

const PLAYGROUND_BODY = `
<section id="key-section"><div id="key-box"></div></section>
<div class="layout">
  <section>
    <h2>Request</h2>
    <form id="generate-form" novalidate>
      <div class="form-actions">
        <button type="submit" id="generate">Generate</button>
        <button type="button" id="estimate" class="secondary">Estimate cost</button>
        <span id="form-error" role="alert"></span>
      </div>
    </form>
  </section>
  <section>
    <div id="result"><h3>Result</h3><p class="note">Fill in the form and generate: progress, the image, its cost and region appear here.</p></div>
    <h3>curl <button type="button" class="secondary small" data-copy="snippet-curl">Copy</button></h3>
    <pre id="snippet-curl"></pre>
    <h3>JavaScript <button type="button" class="secondary small" data-copy="snippet-js">Copy</button></h3>
    <pre id="snippet-js"></pre>
  </section>
</div>
<section>
  <h2>Your generations</h2>
  <div id="gallery"></div>
  <p><button type="button" id="more" class="secondary" hidden>More</button></p>
</section>`;

const DASHBOARD_BODY = `
<section id="key-section"><div id="key-box"></div></section>
<section>
  <div class="controls">
    <label for="range">Range</label>
    <select id="range">
      <option value="month">This month</option>
      <option value="7">Last 7 days</option>
      <option value="30">Last 30 days</option>
      <option value="90">Last 90 days</option>
    </select>
    <span id="range-label"></span>
    <label for="csv-group">CSV by</label>
    <select id="csv-group">
      <option value="day">day</option><option value="hour">hour</option><option value="model">model</option>
      <option value="project">project</option><option value="region">region</option><option value="key">key</option>
      <option value="lane">lane</option>
    </select>
    <button type="button" id="download-csv" class="secondary">Download CSV</button>
    <span id="dashboard-error" role="alert"></span>
  </div>
</section>
<div class="tiles" id="tiles"></div>
<section><h2>Spend per day</h2><div id="chart-daily" class="chart"></div></section>
<section><h2>Budgets</h2><div id="budgets"></div></section>
<div class="groups">
  <section id="group-model"></section>
  <section id="group-project"></section>
  <section id="group-region"></section>
  <section id="group-key"></section>
  <section id="group-lane"></section>
</div>`;

export function pageHtml(page: PageName, nonce: string): string {
  const script = STATIC_FILES[page === "playground" ? "playground.js" : "dashboard.js"];
  const css = STATIC_FILES["pages.css"];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(TITLES[page])} · Generative art API</title>
<link rel="stylesheet" href="${staticUrl(css)}" integrity="${css.integrity}">
<script src="${staticUrl(script)}" integrity="${script.integrity}" nonce="${nonce}" defer></script>
</head>
<body data-page="${page}">
<header class="top"><h1>Generative art API</h1>${nav(page)}</header>
<main>${page === "playground" ? PLAYGROUND_BODY : DASHBOARD_BODY}</main>
</body>
</html>
`;
}

/** The static file served at `/static/<name>`, by its content-hashed name. */
export function staticFileNamed(name: string): StaticFile | undefined {
  return Object.values(STATIC_FILES).find((f) => f.name === name);
}
