import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker entry (edge/entry/worker.ts, from wrangler.toml) inside workerd with real Miniflare
// bindings (R2, Cache API). The database and the regions are real servers that global-setup.ts starts
// in Node; their addresses and the run's secrets reach the Worker as bindings.

export default defineConfig({
  root: import.meta.dirname,
  // Keep Vite's cache with the repository's, not in a node_modules/ of its own here.
  cacheDir: `${import.meta.dirname}/../../node_modules/.vite/workers`,
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: `${import.meta.dirname}/../../wrangler.toml`, environment: "dev" },
      miniflare: { bindings: inject("workerBindings") },
    })),
  ],
  test: {
    name: "workers",
    include: ["**/*.test.ts"],
    exclude: ["setup/**"],
    globalSetup: ["setup/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CommonJS packages (obscenity) are pre-bundled to ESM, as wrangler's esbuild does in a deploy.
    deps: { optimizer: { ssr: { enabled: true, include: ["obscenity"] } } },
  },
});
