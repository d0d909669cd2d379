import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVocabulary, serializeVocabulary, WordVocabulary } from "./vocabulary.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vocab-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("vocabulary files", () => {
  it("round-trips words to ids", async () => {
    const text = serializeVocabulary(["the", "red", "sea"]);
    const path = join(dir, "vocab.txt");
    await writeFile(path, text);
    const sha256 = createHash("sha256").update(text).digest("hex");
    const vocab = await loadVocabulary(path, sha256);
    expect(vocab.size).toBe(3);
    expect(["the", "red", "sea", "sky"].map((w) => vocab.id(w))).toEqual([1, 2, 3, 0]);
  });

  it("refuses a file whose sha256 does not match", async () => {
    const path = join(dir, "tampered.txt");
    await writeFile(path, "red\nsea\n");
    await expect(loadVocabulary(path, "0".repeat(64))).rejects.toThrow(/does not match/);
  });

  it("refuses truncated files, duplicates and invalid words", async () => {
    const truncated = join(dir, "truncated.txt");
    await writeFile(truncated, "red\nse");
    await expect(loadVocabulary(truncated)).rejects.toThrow(/truncated/);
    expect(() => new WordVocabulary(["red", "red"])).toThrow(/duplicate/);
    expect(() => new WordVocabulary(["Red"])).toThrow(/invalid/);
  });
});
