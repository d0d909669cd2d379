import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelManifest } from "../../contracts/model-manifest.ts";
import { loadVocabulary } from "../../regional-gpu/pipelines/vocabulary.ts";
import type { Vocabulary } from "../../regional-gpu/pipelines/tokenize.ts";
import { referenceModel } from "../../regional-gpu/testing/reference-model.ts";
import { openModel, openTextEncoder, TEXT_DIMS, dot, type TextEncoder } from "./cppn-runtime.ts";
import { withPromptHead, type PromptHead } from "./prompt-head-graph.ts";

let manifest: ModelManifest;
let parent: Uint8Array;
let vocab: Vocabulary;
let encoder: TextEncoder;
beforeAll(async () => {
  const model = await referenceModel();
  manifest = model.manifest;
  const dir = join(model.modelsDir, manifest.name, manifest.version);
  parent = new Uint8Array(await readFile(join(dir, manifest.file)));
  vocab = await loadVocabulary(join(dir, manifest.tokenizer.file), manifest.tokenizer.sha256);
  encoder = await openTextEncoder(manifest, parent, vocab);
});
afterAll(() => encoder?.close());

const zeroHead = (): PromptHead => ({
  dims: TEXT_DIMS,
  weights: new Float32Array(TEXT_DIMS * TEXT_DIMS),
  bias: new Float32Array(TEXT_DIMS),
});

async function draw(bytes: Uint8Array, prompt: string) {
  const opened = await openModel(manifest, bytes, vocab);
  try {
    return await opened.pipeline.run(
      [1, 2].map((seed) => ({ prompt, seed, width: 64, height: 64 })),
    );
  } finally {
    await opened.close();
  }
}

describe("the prompt head spliced into the parent graph", () => {
  it("reads the parent's unit text vector for a prompt", async () => {
    const [a, b, blank] = await encoder.encode([
      { prompt: "red sunset over the sea" },
      { prompt: "crimson sunset above the ocean" },
      { prompt: "" },
    ]);
    expect(dot(a!, a!)).toBeCloseTo(1, 4);
    expect(dot(a!, b!)).toBeGreaterThan(0.5);
    expect(dot(blank!, blank!)).toBeCloseTo(0, 4);
  });

  it("leaves the images as they were with a zero head, and is deterministic", async () => {
    const head = withPromptHead(parent, zeroHead(), "test");
    expect(Buffer.compare(withPromptHead(parent, zeroHead(), "test"), head)).toBe(0);
    const [mine, theirs] = [
      await draw(head, "green mossy forest"),
      await draw(parent, "green mossy forest"),
    ];
    let differing = 0;
    mine.forEach((img, i) =>
      img.data.forEach((v, j) => (differing += Math.abs(v - theirs[i]!.data[j]!) > 2 ? 1 : 0)),
    );
    expect(differing / (2 * 64 * 64 * 3)).toBeLessThan(0.01);
  });

  it("moves the palette where its bias points", async () => {
    const [red] = await encoder.encode([{ prompt: "red" }]);
    const head = zeroHead();
    red!.forEach((x, i) => (head.bias[i] = x));
    // Mean of red minus green over the pixels: a green forest turns red.
    const redness = (images: Awaited<ReturnType<typeof draw>>) => {
      let sum = 0;
      for (const img of images)
        for (let p = 0; p < img.data.length; p += 3) sum += img.data[p]! - img.data[p + 1]!;
      return sum / (images.length * 64 * 64);
    };
    const before = redness(await draw(parent, "green mossy forest"));
    const after = redness(await draw(withPromptHead(parent, head, "test"), "green mossy forest"));
    expect(before).toBeLessThan(0);
    expect(after).toBeGreaterThan(before + 40);
  });

  it("stacks on a parent that is itself trained", async () => {
    const once = withPromptHead(parent, zeroHead(), "once");
    const twice = withPromptHead(once, zeroHead(), "twice");
    const [a, b] = [await draw(parent, "a calm bay"), await draw(twice, "a calm bay")];
    let differing = 0;
    a.forEach((img, i) =>
      img.data.forEach((v, j) => (differing += Math.abs(v - b[i]!.data[j]!) > 2 ? 1 : 0)),
    );
    expect(differing / (2 * 64 * 64 * 3)).toBeLessThan(0.01);
  });
});
