import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsObjectStore } from "./fs.ts";
import { describeObjectStoreContract } from "./object-store.contract.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fs-store-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeObjectStoreContract("FsObjectStore", () => new FsObjectStore(root));

describe("FsObjectStore on disk", () => {
  it("leaves no staging files or replaced blobs behind", async () => {
    const dir = await mkdtemp(join(root, "clean-"));
    const store = new FsObjectStore(dir);
    for (let i = 0; i < 5; i++) {
      await store.put("k.txt", new TextEncoder().encode(`v${i}`), { contentType: "text/plain" });
    }
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    const fanout = await readdir(join(dir, "blobs"));
    const blobs = (await Promise.all(fanout.map((d) => readdir(join(dir, "blobs", d))))).flat();
    expect(blobs).toHaveLength(1);
    await store.delete("k.txt");
    const left = await Promise.all(fanout.map((d) => readdir(join(dir, "blobs", d))));
    expect(left.flat()).toEqual([]);
  });

  it("creates its folders again when they are removed behind its back", async () => {
    const dir = await mkdtemp(join(root, "gone-"));
    const store = new FsObjectStore(dir);
    await store.put("a/b.png", new Uint8Array([1]), { contentType: "image/png" });
    await rm(dir, { recursive: true, force: true });
    await store.put("a/b.png", new Uint8Array([2]), { contentType: "image/png" });
    expect(Array.from((await store.get("a/b.png"))!.body)).toEqual([2]);
  });

  it("survives a reopen: state lives on disk only", async () => {
    const dir = await mkdtemp(join(root, "reopen-"));
    await new FsObjectStore(dir).put("a/b.png", new Uint8Array([1, 2, 3]), {
      contentType: "image/png",
    });
    const again = await new FsObjectStore(dir).get("a/b.png");
    expect(Array.from(again!.body)).toEqual([1, 2, 3]);
  });
});
