import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { describeObjectStoreContract } from "../../storage/object-store.contract.ts";
import { R2ObjectStore } from "../../storage/r2.ts";

// The shared ObjectStore contract against a real (Miniflare) R2 bucket, inside workerd.

describeObjectStoreContract("R2ObjectStore", () => new R2ObjectStore(env.ASSETS));

describe("R2ObjectStore prefix", () => {
  it("keeps its keys under the prefix and out of other prefixes' sight", async () => {
    const outputs = new R2ObjectStore(env.ASSETS, { prefix: "outputs" });
    const other = new R2ObjectStore(env.ASSETS, { prefix: "other/" });
    await outputs.put("a.png", new Uint8Array([1, 2, 3]), { contentType: "image/png" });
    expect(await env.ASSETS.head("outputs/a.png")).not.toBeNull();
    expect(await outputs.head("a.png")).toMatchObject({ key: "a.png", size: 3 });
    expect(await other.head("a.png")).toBeNull();
  });
});
