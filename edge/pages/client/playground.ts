// The playground at `/`: a form generated from the served OpenAPI document, live progress over
// server-sent events, the image with its cost and region, snippets, and the account's gallery.

import { actionPath, availableActions, type GenerationAction } from "./actions.ts";
import { api, errorOf, mountKeyBox, storedKey } from "./api.ts";
import { byId, h, present } from "./dom.ts";
import { count, ms, usd } from "./format.ts";
import { allFields, clearErrors, readField, renderFields, showFieldError } from "./form-view.ts";
import { bodyOf, fieldsOf, type Field, type JsonSchema } from "./schema-form.ts";
import { curlSnippet, javascriptSnippet } from "./snippets.ts";
import { readSse } from "./sse.ts";

interface Generation {
  id: string;
  status: string;
  prompt: string;
  model: string;
  model_version: string;
  region: string | null;
  cached: boolean;
  params: { width: number; height: number; seed: number; priority: string };
  output: { url: string; width: number; height: number } | null;
  error: { message: string } | null;
  cost: { estimated_usd: number; actual_usd: number | null; gpu_ms: number | null };
  lane_change?: { requested: string; reason: string } | null;
  livemode?: boolean;
  urls: { events: string };
}

const TERMINAL = new Set(["succeeded", "failed", "blocked", "canceled"]);
let fields: Field[] = [];
let actions: GenerationAction[] = [];
let galleryCursor: string | null = null;

async function main(): Promise<void> {
  mountKeyBox(() => void loadGallery(true));
  const doc = (await (await fetch("/openapi.json")).json()) as {
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, JsonSchema> };
  };
  const schemas = doc.components.schemas;
  fields = fieldsOf(schemas.CreateGenerationRequest!, schemas).filter((f) => f.path !== "dry_run");
  actions = availableActions(doc.paths);
  const form = byId<HTMLFormElement>("generate-form");
  form.prepend(...renderFields(fields));
  form.addEventListener("input", () => updateSnippets(form));
  form.addEventListener("change", () => updateSnippets(form));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit(form, false);
  });
  byId("estimate").addEventListener("click", () => void submit(form, true));
  byId("more").addEventListener("click", () => void loadGallery(false));
  for (const button of document.querySelectorAll<HTMLButtonElement>("[data-copy]")) {
    button.addEventListener("click", () => {
      const text = byId(button.dataset.copy!).textContent ?? "";
      void navigator.clipboard?.writeText(text).then(() => (button.textContent = "Copied"));
    });
  }
  updateSnippets(form);
  await loadGallery(true);
}

const requestOf = (form: HTMLElement) =>
  bodyOf(fields, (path) => {
    const field = allFields(fields).find((f) => f.path === path);
    return field ? readField(form, field) : undefined;
  });

function updateSnippets(form: HTMLElement): void {
  const body = requestOf(form);
  byId("snippet-curl").textContent = curlSnippet(location.origin, body);
  byId("snippet-js").textContent = javascriptSnippet(location.origin, body);
}

async function submit(form: HTMLFormElement, dryRun: boolean): Promise<void> {
  clearErrors(form);
  const notice = byId("form-error");
  notice.textContent = "";
  if (!storedKey()) {
    notice.textContent = "Paste an API key first.";
    return;
  }
  const body = { ...requestOf(form), ...(dryRun && { dry_run: true }) };
  const res = await api("/v1/generations", { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) {
    const error = await errorOf(res);
    // A content-policy refusal names the prompt; everything else names its field when it can.
    const param = error.param ?? (error.type === "content_policy_violation" ? "prompt" : undefined);
    if (!showFieldError(form, fields, { ...error, param })) {
      notice.textContent = `${error.message} (${error.code})`;
    }
    return;
  }
  const data = (await res.json()) as Generation & { object: string };
  if (data.object === "generation_estimate") {
    showEstimate(data as unknown as Estimate);
    return;
  }
  await follow(data);
}

interface Estimate {
  model: string;
  model_version: string;
  params: { width: number; height: number; priority: string };
  region: string | null;
  queue: { estimated_wait_ms: number | null };
  cost: { estimated_usd: number; gpu_ms: number };
  lane_change: { requested: string; reason: string } | null;
  livemode: boolean;
}

function showEstimate(e: Estimate): void {
  const out = byId("result");
  out.replaceChildren(
    ...present(
      h("h3", {}, "Estimate (nothing was created)"),
      h(
        "p",
        { id: "estimate-line" },
        `${usd(e.cost.estimated_usd)} · ~${count(e.cost.gpu_ms)} GPU ms · ${e.params.priority} lane · ${e.region ?? "no region"} · wait ~${ms(e.queue.estimated_wait_ms)}`,
        e.livemode ? "" : " · test mode: not charged",
      ),
      e.lane_change ? h("p", { class: "note" }, laneNote(e.lane_change)) : null,
    ),
  );
}

const laneNote = (c: { requested: string; reason: string }) =>
  `Moved from the ${c.requested} lane to relax: ${c.reason === "budget" ? "a budget with the relax rule is spent" : "over the plan's cost per request"}.`;

/** Shows a generation and follows its events until it ends. */
async function follow(gen: Generation): Promise<void> {
  const steps = h("ol", { class: "steps", id: "progress" });
  const card = h("div", { class: "card", id: "result-card" });
  byId("result").replaceChildren(h("h3", {}, "Result"), steps, card);
  const seen = new Set<string>();
  const step = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    steps.append(h("li", { class: `step ${name}` }, name));
  };
  step(gen.status);
  renderResult(card, gen);
  if (TERMINAL.has(gen.status)) return finished();
  const res = await api(gen.urls.events, { headers: { accept: "text/event-stream" } });
  if (!res.ok || !res.body) return;
  let last = gen;
  await readSse(res.body, (event) => {
    step(event.event);
    last = JSON.parse(event.data) as Generation;
    renderResult(card, last);
  });
  finished();
}

function finished(): void {
  void loadGallery(true);
}

function renderResult(card: HTMLElement, gen: Generation): void {
  const cost =
    gen.cost.actual_usd === null
      ? `estimated ${usd(gen.cost.estimated_usd)}`
      : `${usd(gen.cost.actual_usd)}${gen.cost.gpu_ms === null ? "" : ` · ${count(gen.cost.gpu_ms)} GPU ms`}`;
  card.replaceChildren(
    ...present(
      h("p", { class: `status ${gen.status}`, id: "result-status" }, gen.status),
      gen.output
        ? h("img", {
            id: "result-image",
            src: gen.output.url,
            alt: gen.prompt,
          })
        : null,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Cost"),
        h("dd", { id: "result-cost" }, cost, gen.livemode === false ? " (test mode)" : ""),
        h("dt", {}, "Region"),
        h("dd", { id: "result-region" }, gen.region ?? "–"),
        h("dt", {}, "Lane"),
        h("dd", {}, gen.params.priority),
        h("dt", {}, "Model"),
        h("dd", {}, `${gen.model}@${gen.model_version}`),
        h("dt", {}, "Seed"),
        h("dd", {}, String(gen.params.seed)),
      ),
      gen.lane_change ? h("p", { class: "note" }, laneNote(gen.lane_change)) : null,
      gen.cached
        ? h("p", { class: "note" }, "Answered from stored output: no GPU time, no charge.")
        : null,
      gen.error ? h("p", { class: "error" }, gen.error.message) : null,
      actionBar(gen),
    ),
  );
}

function actionBar(gen: Generation): HTMLElement | null {
  if (actions.length === 0 || gen.status !== "succeeded") return null;
  const bar = h("div", { class: "actions" });
  for (const action of actions) {
    const button = h("button", { type: "button", class: "secondary small" }, action.label);
    button.addEventListener("click", async () => {
      const res = await api(actionPath(action, gen.id), {
        method: action.method,
        body: JSON.stringify(action.body),
      });
      button.textContent = res.ok ? `${action.label} ✓` : (await errorOf(res)).message;
    });
    bar.append(button);
  }
  return bar;
}

async function loadGallery(reset: boolean): Promise<void> {
  const grid = byId("gallery");
  const more = byId<HTMLButtonElement>("more");
  if (reset) {
    grid.replaceChildren();
    galleryCursor = null;
  }
  if (!storedKey()) {
    more.hidden = true;
    return;
  }
  const query = new URLSearchParams({ limit: "12" });
  if (galleryCursor) query.set("cursor", galleryCursor);
  const res = await api(`/v1/generations?${query}`);
  if (!res.ok) return;
  const page = (await res.json()) as { data: Generation[]; next_cursor: string | null };
  for (const gen of page.data) {
    grid.append(
      h(
        "figure",
        { class: `tile ${gen.status}` },
        gen.output
          ? h("img", {
              src: gen.output.url,
              alt: gen.prompt,
              loading: "lazy",
              width: 160,
              height: 160,
            })
          : h("div", { class: "placeholder" }, gen.status),
        h(
          "figcaption",
          {},
          h("span", { class: "prompt" }, gen.prompt),
          h(
            "span",
            { class: "meta" },
            `${gen.status} · ${usd(gen.cost.actual_usd ?? 0)} · ${gen.region ?? "–"}`,
          ),
        ),
      ),
    );
  }
  galleryCursor = page.next_cursor;
  more.hidden = galleryCursor === null;
}

void main().catch((err: unknown) => {
  byId("form-error").textContent = `The playground could not start: ${String(err)}`;
});
