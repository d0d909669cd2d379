import { defineConfig } from "vitest/config";

// Projects: "node" runs unit and cross-component tests on Node 22; "workers" runs the Worker entry
// inside workerd (test/workers/vitest.config.mts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["{contracts,db,edge,flywheel,regional-gpu,storage,scripts,test}/**/*.test.ts"],
          exclude: ["test/workers/**", "node_modules/**"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      "test/*/vitest.config.mts",
    ],
  },
});
