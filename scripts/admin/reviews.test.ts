import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The CLI's wiring of `npm run admin -- reviews ...` (the decisions themselves are tested through
// the edge in edge/routes/feedback.test.ts): against a stopped local stack's PGlite folder.

const run = promisify(execFile);
const node = process.execPath;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "admin-reviews-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const admin = (...args: string[]) => {
  const { DATABASE_URL: _url, ...env } = process.env;
  return run(node, ["scripts/admin.ts", ...args], { env: { ...env, DATA_DIR: dataDir } });
};

describe("npm run admin -- reviews", () => {
  it("lists the queue and refuses a decision on an output that is not pending", async () => {
    const listed = await admin("reviews", "list", "--json");
    expect(JSON.parse(listed.stdout)).toEqual({ reviews: [] });
    const human = await admin("reviews", "list");
    expect(human.stdout).toContain("no outputs pending review");

    const refused = await admin("reviews", "approve", "gen_00000000000000000000000000").catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain("is not pending review");

    const usage = await admin("reviews").catch((err: { code: number; stdout: string }) => err);
    expect(usage).toMatchObject({ code: 2 });
  }, 120_000);
});
