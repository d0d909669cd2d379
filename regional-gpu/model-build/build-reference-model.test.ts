import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelManifest } from "../../contracts/model-manifest.ts";
import {
  buildReferenceModel,
  ensureReferenceModel,
  MODEL_NAME,
  MODEL_VERSION,
  modelDir,
  STYLE_MODEL_VERSION,
  STYLE_SPACE,
  type BuiltModel,
} from "./build-reference-model.ts";

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "reference-model-test-"));
  dirs.push(dir);
  return dir;
};

let first: BuiltModel;
let firstDir: string;
let firstLog: string[];
beforeAll(async () => {
  firstDir = await tempDir();
  firstLog = [];
  first = await buildReferenceModel(firstDir, (line) => firstLog.push(line));
}, 180_000);
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("buildReferenceModel", () => {
  it("writes model, vocabulary and a valid manifest under <out>/<name>/<version>", async () => {
    const dir = modelDir(firstDir);
    expect(dir).toBe(join(firstDir, "cppn-glove", "2026-11-27.1"));
    expect(first.manifestPath).toBe(join(dir, "manifest.json"));
    const onDisk = ModelManifest.parse(JSON.parse(await readFile(first.manifestPath, "utf8")));
    expect(onDisk).toEqual(first.manifest);
    expect(onDisk).toMatchObject({
      name: MODEL_NAME,
      version: MODEL_VERSION,
      pipeline: "cppn-text2img",
      measured_on: "cpu",
      output: { channels: 3, format: "uint8-rgb" },
      limits: { min_side: 64, max_side: 2048, multiple_of: 64 },
    });
    expect(await sha256(join(dir, onDisk.file))).toBe(onDisk.sha256);
    expect(await sha256(join(dir, onDisk.tokenizer.file))).toBe(onDisk.tokenizer.sha256);
    expect(onDisk.bytes).toBe((await readFile(join(dir, onDisk.file))).byteLength);
    // A few MB: the int8 embedding table dominates.
    expect(onDisk.bytes).toBeGreaterThan(2_000_000);
    expect(onDisk.bytes).toBeLessThan(10_000_000);
    expect(onDisk.inputs.map((i) => i.name)).toEqual([
      "token_ids",
      "negative_token_ids",
      "noise",
      "coords",
    ]);
    expect(onDisk.outputs).toEqual([
      { name: "image", type: "uint8", shape: ["batch", "pixels", 3] },
    ]);
  });

  it("prints numbered steps and read progress", () => {
    expect(firstLog.filter((l) => /^\[\d\/5\]/.test(l))).toHaveLength(5);
    expect(firstLog.some((l) => /\b50%/.test(l))).toBe(true);
    expect(firstLog.some((l) => /ms per megapixel/.test(l))).toBe(true);
  });

  it("is deterministic: a second build has the same bytes", async () => {
    const other = await tempDir();
    const second = await buildReferenceModel(other, () => {});
    for (const file of ["model.onnx", "vocab.txt"]) {
      expect(await sha256(join(modelDir(other), file))).toBe(
        await sha256(join(modelDir(firstDir), file)),
      );
    }
    // Only the timing measurement may differ.
    const { gpu_ms_per_megapixel: a, ...restFirst } = first.manifest;
    const { gpu_ms_per_megapixel: b, ...restSecond } = second.manifest;
    expect(restSecond).toEqual(restFirst);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  }, 180_000);
});

describe("the style-capable version", () => {
  it("keeps the first version's graph byte for byte (its sha256 as released)", () => {
    expect(first.manifest.sha256).toBe(
      "8807bb2011bc1d39bc5d3b49e56cb350190e65cf20dbbc5903ad8eb28c08281f",
    );
  });

  it("is written beside it with a style input, a style output and the style contract", async () => {
    const styled = await buildReferenceModel(firstDir, () => {}, STYLE_MODEL_VERSION);
    expect(styled.manifestPath).toBe(
      join(modelDir(firstDir, STYLE_MODEL_VERSION), "manifest.json"),
    );
    expect(styled.manifest.sha256).not.toBe(first.manifest.sha256);
    expect(styled.manifest.inputs.map((i) => i.name)).toEqual([
      "token_ids",
      "negative_token_ids",
      "noise",
      "coords",
      "style",
      "style_strength",
    ]);
    expect(styled.manifest.outputs.map((o) => o.name)).toEqual(["image", "style_vector"]);
    expect(styled.manifest.style).toMatchObject({ dims: 50, space: STYLE_SPACE });
    expect(first.manifest.style).toBeUndefined();
    // The two versions share the vocabulary and weights: only the graph's style part differs.
    expect(styled.manifest.tokenizer).toEqual(first.manifest.tokenizer);
  }, 180_000);
});

describe("ensureReferenceModel", () => {
  it("reuses an intact build without rebuilding", async () => {
    const log: string[] = [];
    const [a, b] = await Promise.all([
      ensureReferenceModel(firstDir, (l) => log.push(l)),
      ensureReferenceModel(firstDir, (l) => log.push(l)),
    ]);
    expect(a).toEqual(first);
    expect(b).toBe(a);
    expect(log).toEqual([]);
  });

  it("rebuilds when a file no longer matches its sha256", async () => {
    const vocabPath = join(modelDir(firstDir), "vocab.txt");
    await appendFile(vocabPath, "tampered\n");
    const log: string[] = [];
    const rebuilt = await ensureReferenceModel(firstDir, (l) => log.push(l));
    expect(log[0]).toMatch(/missing or stale/);
    expect(await sha256(vocabPath)).toBe(first.manifest.tokenizer.sha256);
    expect(rebuilt.manifest.sha256).toBe(first.manifest.sha256);
  }, 180_000);
});
