import { readFile, writeFile } from "node:fs/promises";
import { relative } from "node:path";
import {
  buildPageFiles,
  GENERATED_FILE,
  renderGeneratedModule,
} from "../edge/pages/build-pages.ts";

// npm run pages:build             writes edge/pages/static-files.generated.ts
// npm run pages:build -- --check  exits 1 when it is not what the sources build now

const text = await renderGeneratedModule(await buildPageFiles());
const name = relative(process.cwd(), GENERATED_FILE);
if (process.argv.includes("--check")) {
  const committed = await readFile(GENERATED_FILE, "utf8").catch(() => null);
  if (committed !== text) {
    console.error(`${name} is stale: run npm run pages:build`);
    process.exit(1);
  }
  console.log(`${name}: up to date`);
} else {
  await writeFile(GENERATED_FILE, text);
  console.log(`${name}: written`);
}
