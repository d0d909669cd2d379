import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Regional nodes are installed with `npm ci --omit=dev` (terraform/modules/gpu-region): every package
// the node's own modules import must be a production dependency. Walks the import graph of the
// node's entry, static and literal dynamic imports alike, so that for instance TensorFlow.js (a dev
// dependency since moderation runs on ONNX Runtime) cannot creep back into a node.

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm;

/** Every bare package specifier reachable from `entry`, with one file that imports it. */
function packagesReachableFrom(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3]!;
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target)) visit(target);
        continue;
      }
      if (spec.startsWith("node:")) continue;
      const name = spec.startsWith("@")
        ? spec.split("/").slice(0, 2).join("/")
        : spec.split("/")[0]!;
      if (!packages.has(name)) packages.set(name, file.slice(root.length));
    }
  };
  visit(resolve(root, entry));
  return packages;
}

describe("the regional node's production install", () => {
  it("needs no dev dependency", () => {
    const reachable = packagesReachableFrom("regional-gpu/main.ts");
    const notProduction = [...reachable].filter(([name]) => !(name in pkg.dependencies));
    expect(notProduction).toEqual([]);
    expect(reachable.has("onnxruntime-node")).toBe(true);
    expect(reachable.has("nsfwjs")).toBe(true);
    expect([...reachable.keys()].filter((name) => name.startsWith("@tensorflow/"))).toEqual([]);
  });
});
