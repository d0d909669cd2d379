import { describe, expect, it } from "vitest";
import openapi from "../../../docs/openapi.json" with { type: "json" };
import { availableActions } from "./actions.ts";
import {
  bodyOf,
  fieldForParam,
  fieldsOf,
  flatten,
  type FieldValue,
  type JsonSchema,
} from "./schema-form.ts";
import { curlSnippet, javascriptSnippet } from "./snippets.ts";
import { parseSse } from "./sse.ts";

const schemas = openapi.components.schemas as unknown as Record<string, JsonSchema>;
const fields = fieldsOf(schemas.CreateGenerationRequest!, schemas);
const byPath = new Map(flatten(fields).map((f) => [f.path, f]));

describe("the form generated from CreateGenerationRequest", () => {
  it("has a field per property, of the right kind, with defaults and requirements", () => {
    expect(fields.map((f) => f.path)).toEqual(
      Object.keys(schemas.CreateGenerationRequest!.properties!),
    );
    expect(byPath.get("prompt")).toMatchObject({ kind: "text", multiline: true, required: true });
    expect(byPath.get("width")).toMatchObject({
      kind: "number",
      integer: true,
      min: 64,
      max: 2048,
      step: 64,
      default: 512,
    });
    // An enum behind a $ref.
    expect(byPath.get("priority")).toMatchObject({
      kind: "choice",
      options: ["fast", "standard", "relax"],
    });
    // Nested objects, an array of an enum, a string map.
    expect(byPath.get("style")).toMatchObject({ kind: "group" });
    // Two alternatives (an output's style or the taste profile): one group, none required.
    expect(byPath.get("style.reference")).toMatchObject({ kind: "text", required: false });
    expect(byPath.get("style.profile")).toMatchObject({ kind: "choice", options: ["me"] });
    expect(byPath.get("style.strength")).toMatchObject({
      kind: "number",
      integer: false,
      default: 0.5,
    });
    expect(byPath.get("webhook.events")).toMatchObject({
      kind: "choices",
      options: ["succeeded", "failed", "blocked", "canceled"],
    });
    expect(byPath.get("metadata")).toMatchObject({ kind: "pairs" });
    expect(byPath.get("cache")).toMatchObject({ kind: "boolean" });
  });

  it("builds the body: empty fields and defaults left to the server, groups only when used", () => {
    const values: Record<string, FieldValue> = {
      prompt: "a harbour",
      width: "512",
      height: "768",
      seed: "42",
      priority: "fast",
      "style.strength": "0.5",
      "webhook.url": "https://example.com/hook",
      "webhook.events": ["succeeded"],
      metadata: [
        ["campaign", "spring"],
        ["", "ignored"],
      ],
      cache: false,
    };
    expect(bodyOf(fields, (p) => values[p])).toEqual({
      prompt: "a harbour",
      height: 768,
      seed: 42,
      priority: "fast",
      webhook: { url: "https://example.com/hook", events: ["succeeded"] },
      metadata: { campaign: "spring" },
    });
    // A value that is not a number goes as typed, for the server's 400 to name.
    expect(bodyOf(fields, (p) => (p === "seed" ? "4e" : undefined))).toEqual({ seed: "4e" });
  });

  it("finds the field a 400's param names, or its nearest ancestor", () => {
    expect(fieldForParam(fields, "width")?.path).toBe("width");
    expect(fieldForParam(fields, "webhook.url")?.path).toBe("webhook.url");
    expect(fieldForParam(fields, "webhook.events.0")?.path).toBe("webhook.events");
    expect(fieldForParam(fields, "metadata.campaign")?.path).toBe("metadata");
    expect(fieldForParam(fields, "colour")).toBeNull();
    expect(fieldForParam(fields, undefined)).toBeNull();
  });
});

describe("page helpers", () => {
  it("snippets carry the request but never a key", () => {
    const body = { prompt: "it's a harbour", seed: 1 };
    const curl = curlSnippet("https://api.example", body);
    expect(curl).toContain(`-d '{"prompt":"it'\\''s a harbour","seed":1}'`);
    expect(curl).toContain("$GENART_API_KEY");
    expect(javascriptSnippet("https://api.example", body)).toContain('"seed": 1');
  });

  it("parses server-sent events across chunk boundaries", () => {
    const first = parseSse('retry: 1000\n\nid: 1\nevent: queued\ndata: {"a":1}\n\nevent: run');
    expect(first.events).toEqual([{ event: "queued", id: "1", data: '{"a":1}' }]);
    const second = parseSse(`${first.rest}ning\ndata: x\n\n: keep-alive\n\n`);
    expect(second.events).toEqual([{ event: "running", id: undefined, data: "x" }]);
  });

  it("offers like / report / refine only when the served API has their routes", () => {
    const served = openapi.paths as Record<string, Record<string, unknown>>;
    expect(availableActions(served).map((a) => a.label)).toEqual(["Like", "Report", "Refine"]);
    const withoutRefine = { "/v1/generations/{id}/feedback": { post: {} } };
    expect(availableActions(withoutRefine).map((a) => a.label)).toEqual(["Like", "Report"]);
    expect(availableActions({})).toEqual([]);
  });
});
