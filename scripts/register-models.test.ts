import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWireGateway, type WireGateway } from "../db/local/wire-gateway.ts";
import { getActiveModelVersion, listModels } from "../db/queries/models.ts";
import { modelVersions } from "../db/schema/models.ts";
import { createTestDatabase, type PgliteHandle } from "../db/testing.ts";
import { referenceModel, type TestModel } from "../regional-gpu/testing/reference-model.ts";

// `npm run db:register-models` against a database reached by URL, as a deployment's would be (a
// PGlite behind the wire gateway standing in for Neon), with the real reference model's folder.

const script = fileURLToPath(new URL("./register-models.ts", import.meta.url));
let handle: PgliteHandle;
let gateway: WireGateway;
let model: TestModel;
/** A folder of the reference model alone (the shared test model folder may hold others' builds). */
let modelsDir: string;

const register = (modelDir: string) =>
  promisify(execFile)(process.execPath, [script, "--model-dir", modelDir], {
    env: { ...process.env, DATABASE_URL: gateway.postgresUrl },
  });

beforeAll(async () => {
  model = await referenceModel();
  modelsDir = await mkdtemp(join(tmpdir(), "register-models-"));
  const { name, version } = model.manifest;
  await cp(join(model.modelsDir, name, version), join(modelsDir, name, version), {
    recursive: true,
  });
  handle = await createTestDatabase();
  gateway = await startWireGateway(handle.db.$client);
});

afterAll(async () => {
  await gateway?.close();
  await handle?.close();
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

describe("npm run db:register-models", () => {
  it("registers the built versions as the ones the edge runs, and leaves them be afterwards", async () => {
    const { stdout } = await register(modelsDir);
    expect(JSON.parse(stdout)).toEqual({
      msg: "model versions registered",
      registered: [model.ref],
    });
    const { manifest } = model;
    const found = await getActiveModelVersion(handle.db, manifest.name);
    expect(found?.version).toMatchObject({
      version: manifest.version,
      sha256: manifest.sha256,
      bytes: manifest.bytes,
      status: "default",
    });

    // An operator retires it; registering again does not bring it back.
    await handle.db
      .update(modelVersions)
      .set({ status: "retired" })
      .where(eq(modelVersions.id, found!.version.id));
    expect(JSON.parse((await register(modelsDir)).stdout).registered).toEqual([]);
    const [listed] = await listModels(handle.db);
    expect(listed?.versions.map((v) => v.status)).toEqual(["retired"]);
  });

  it("refuses a different artifact under a registered name@version, and an empty folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "register-models-"));
    try {
      const versionDir = join(dir, model.manifest.name, model.manifest.version);
      await cp(join(modelsDir, model.manifest.name, model.manifest.version), versionDir, {
        recursive: true,
      });
      const manifestFile = join(versionDir, "manifest.json");
      const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as { sha256: string };
      await writeFile(manifestFile, JSON.stringify({ ...manifest, sha256: "b".repeat(64) }));
      await expect(register(dir)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining("already registered with a different sha256"),
      });
      await expect(register(join(dir, "empty"))).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining("run npm run model:build"),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
