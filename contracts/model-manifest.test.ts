import { describe, expect, it } from "vitest";
import { ModelManifest } from "./model-manifest.ts";

const sha = (c: string) => c.repeat(64);

const valid = {
  name: "cppn-glove",
  version: "2026-11-27.1",
  pipeline: "cppn-text2img",
  file: "model.onnx",
  sha256: sha("a"),
  bytes: 7_000_000,
  inputs: [
    { name: "token_ids", type: "int64", shape: ["batch", "tokens"] },
    { name: "noise", type: "float32", shape: ["batch", 16] },
  ],
  outputs: [{ name: "image", type: "uint8", shape: ["batch", "pixels", 3] }],
  tokenizer: { kind: "word-vocab", file: "vocab.txt", sha256: sha("b"), max_tokens: 64 },
  output: { channels: 3, format: "uint8-rgb" },
  limits: { min_side: 64, max_side: 2048, multiple_of: 64 },
  gpu_ms_per_megapixel: 312.5,
  measured_on: "cpu",
  created_by: "regional-gpu/model-build/build-reference-model.ts",
};

describe("ModelManifest", () => {
  it("accepts a single-graph manifest", () => {
    expect(ModelManifest.parse(valid)).toEqual(valid);
  });

  it("accepts stages for multi-stage pipelines", () => {
    const stage = (name: string) => ({
      name,
      file: `${name}.onnx`,
      sha256: sha("c"),
      bytes: 10,
      inputs: [{ name: "x", type: "float32", shape: ["batch", 77, 768] }],
      outputs: [{ name: "y", type: "float16", shape: ["batch", 4, 64, 64] }],
    });
    const manifest = {
      ...valid,
      stages: [stage("text-encoder"), stage("denoiser"), stage("decoder")],
    };
    expect(ModelManifest.parse(manifest).stages).toHaveLength(3);
    const duplicate = { ...valid, stages: [stage("denoiser"), stage("denoiser")] };
    expect(ModelManifest.safeParse(duplicate).success).toBe(false);
  });

  it.each([
    ["an absolute file", { file: "/etc/model.onnx" }],
    ["a file outside the folder", { file: "../other/model.onnx" }],
    ["an uppercase sha256", { sha256: sha("A") }],
    ["a short sha256", { sha256: "abc" }],
    ["an unknown pipeline", { pipeline: "gan" }],
    ["min_side above max_side", { limits: { min_side: 512, max_side: 256, multiple_of: 64 } }],
    ["four output channels", { output: { channels: 4, format: "uint8-rgb" } }],
    ["a fractional dimension", { outputs: [{ name: "image", type: "uint8", shape: [1.5] }] }],
    ["an unknown field", { trained_at: "2026-11-27T00:00:00Z" }],
    ["a zero measurement", { gpu_ms_per_megapixel: 0 }],
  ])("rejects %s", (_, patch) => {
    expect(ModelManifest.safeParse({ ...valid, ...patch }).success).toBe(false);
  });

  it("accepts a style contract only when it names the manifest's tensors", () => {
    const style = {
      input: "style",
      strength_input: "style_strength",
      output: "style_vector",
      dims: 50,
      space: "cppn-glove/latent32-ramp6x3",
    };
    const withTensors = {
      ...valid,
      inputs: [
        ...valid.inputs,
        { name: "style", type: "float32", shape: ["batch", 50] },
        { name: "style_strength", type: "float32", shape: ["batch", 1] },
      ],
      outputs: [...valid.outputs, { name: "style_vector", type: "float32", shape: ["batch", 50] }],
    };
    expect(ModelManifest.parse({ ...withTensors, style }).style).toEqual(style);
    expect(ModelManifest.safeParse({ ...valid, style }).success).toBe(false);
    expect(ModelManifest.safeParse({ ...valid, upscale: "rerender" }).success).toBe(true);
    expect(ModelManifest.safeParse({ ...valid, upscale: "bicubic" }).success).toBe(false);
  });
});
