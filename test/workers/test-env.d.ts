// Bindings only the workerd tests get, on top of the deployed ones that `wrangler types` wrote to
// worker-configuration.d.ts; test/workers/setup/global-setup.ts provides them.
declare namespace Cloudflare {
  interface Env {
    TEST_API_KEY: string;
    TEST_FRESH_API_KEY: string;
    TEST_REVOKED_API_KEY: string;
    /** A key whose plan allows exactly 10 generations queued or running at once. */
    TEST_LIMITED_API_KEY: string;
    /** GET <url>/regions/<name>: what that region stand-in saw (setup/stand-in-inspector.ts). */
    TEST_INSPECTOR_URL: string;
    /** JSON: { key, contentType, base64 } of the object the origin stand-in serves. */
    TEST_ORIGIN_OBJECT: string;
  }
}
