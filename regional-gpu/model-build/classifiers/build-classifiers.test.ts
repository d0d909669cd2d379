import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClassifierGraph } from "./classifier-graph.ts";
import { classifierId, ensureClassifierModel } from "./build-classifiers.ts";
import { nsfwjsVersion } from "./nsfwjs-bundle.ts";

// The conversion cache: a build is reused while intact, rebuilt when its file no longer matches its
// manifest; conversion gives the same bytes every time. MobileNetV2 (the smallest) keeps it quick.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "classifiers-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("ensureClassifierModel", () => {
  it("converts once, then reuses the intact build; a corrupt file is converted again", async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const first = await ensureClassifierModel("MobileNetV2", dir, log);
    expect(first.manifest).toMatchObject({
      classifier: classifierId("MobileNetV2"),
      source: `nsfwjs@${nsfwjsVersion()}`,
      side: 224,
      input: "pixels",
      output: "probabilities",
    });
    expect(first.manifest.classifier).toMatch(/^nsfwjs\/MobileNetV2@\d+\.\d+\.\d+\+onnx$/);
    expect(sha256(await readFile(first.path))).toBe(first.manifest.sha256);
    const converted = lines.length;
    expect(converted).toBeGreaterThan(0);

    const again = await ensureClassifierModel("MobileNetV2", dir, log);
    expect(again).toEqual(first);
    expect(lines.length).toBe(converted);

    const bytes = await readFile(first.path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(first.path, bytes);
    const repaired = await ensureClassifierModel("MobileNetV2", dir, log);
    expect(lines.length).toBeGreaterThan(converted);
    expect(sha256(await readFile(repaired.path))).toBe(first.manifest.sha256);
  }, 60_000);

  it("converts to the same bytes every time", async () => {
    const [a, b] = [
      await buildClassifierGraph("MobileNetV2", "1"),
      await buildClassifierGraph("MobileNetV2", "1"),
    ];
    expect(sha256(a)).toBe(sha256(b));
  }, 60_000);
});
