import { existsSync } from "node:fs";

// Headless Chromium for page tests: Debian's `chromium` package (scripts/ci/start-services.sh
// installs it in CI), or CHROMIUM_PATH.
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  return CANDIDATES.find((path) => existsSync(path));
}
