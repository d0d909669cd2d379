import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeObjectStoreContract } from "./object-store.contract.ts";
import { createS3Client, S3ObjectStore } from "./s3.ts";

// A real S3 API server (s3rver) on a loopback port chosen by the OS.
let server: S3rver;
let dir: string;
let client: ReturnType<typeof createS3Client>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "s3rver-"));
  server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: "outputs", configs: [] }],
  });
  const { port } = await server.run();
  client = createS3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describeObjectStoreContract(
  "S3ObjectStore",
  () => new S3ObjectStore({ bucket: "outputs", prefix: "eu-west", client }),
);

describe("S3ObjectStore keys", () => {
  it("keeps each store inside its prefix", async () => {
    const a = new S3ObjectStore({ bucket: "outputs", prefix: "a/", client });
    const b = new S3ObjectStore({ bucket: "outputs", prefix: "b", client });
    await a.put("same.txt", new TextEncoder().encode("from a"), { contentType: "text/plain" });
    expect(await b.head("same.txt")).toBeNull();
    expect(new TextDecoder().decode((await a.get("same.txt"))!.body)).toBe("from a");
  });
});
