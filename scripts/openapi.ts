import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createTestDatabase } from "../db/testing.ts";
import { createApp } from "../edge/app.ts";
import {
  CLIENT_PATHS_FILE,
  OPENAPI_FILE,
  readCommitted,
  renderClientPaths,
  renderOpenApiJson,
} from "../edge/openapi/artifacts.ts";
import { OPENAPI_PATH } from "../edge/openapi/document.ts";
import { FsObjectStore } from "../storage/fs.ts";

// npm run openapi          writes docs/openapi.json and contracts/client/openapi-paths.ts
// npm run openapi -- --check  exits 1 when either is not what the routes generate now

async function servedDocument(): Promise<unknown> {
  // The document is what the app serves: build the real app (its routes need a database to
  // exist, not to answer this) and ask it.
  const handle = await createTestDatabase();
  try {
    const app = createApp({
      db: handle.db,
      // Never written: serving the document reads no asset.
      assets: new FsObjectStore(join(tmpdir(), "openapi-export")),
      regions: [],
      secrets: {
        regionKeys: {},
        assetUrl: "openapi-export",
        webhookSecretsKeys: { current: { id: "openapi", key: btoa("0".repeat(32)) } },
      },
      publicUrl: "http://localhost",
      environment: "development",
      log: () => {},
    });
    const res = await app.request(OPENAPI_PATH);
    if (res.status !== 200) throw new Error(`${OPENAPI_PATH} answered ${res.status}`);
    return await res.json();
  } finally {
    await handle.close();
  }
}

async function main() {
  const check = process.argv.includes("--check");
  const document = await servedDocument();
  const outputs = [
    { file: OPENAPI_FILE, text: await renderOpenApiJson(document) },
    { file: CLIENT_PATHS_FILE, text: await renderClientPaths(document) },
  ];
  let stale = 0;
  for (const { file, text } of outputs) {
    const name = relative(process.cwd(), file);
    if ((await readCommitted(file)) === text) {
      console.log(`${name}: up to date`);
    } else if (check) {
      stale++;
      console.error(`${name}: stale — run \`npm run openapi\` and commit the result`);
    } else {
      await writeFile(file, text);
      console.log(`${name}: written`);
    }
  }
  if (stale > 0) process.exit(1);
}

await main();
