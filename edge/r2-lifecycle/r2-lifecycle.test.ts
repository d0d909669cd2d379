import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadLifecycleConfig, planLifecycleApply } from "../../scripts/apply-r2-lifecycle.ts";
import { LifecycleConfig, toR2LifecyclePolicy, wranglerLifecycleCommand } from "./index.ts";

const committed = loadLifecycleConfig();
const base = {
  buckets: { development: "b-dev", staging: "b-staging", production: "b-prod" },
  rules: [{ id: "expire", description: "x", prefix: "", expireDays: 10 }],
};

describe("R2 lifecycle rules", () => {
  it("the committed rules file is valid and names the buckets of wrangler.toml", () => {
    const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
    const inToml = [...toml.matchAll(/bucket_name = "([^"]+)"/g)].map((m) => m[1]).sort();
    expect(Object.values(committed.buckets).sort()).toEqual(inToml);
  });

  it("refuses rules without an action, duplicate ids and transitions after expiry", () => {
    const bad = [
      { ...base, rules: [{ id: "a", description: "x", prefix: "" }] },
      { ...base, rules: [base.rules[0], base.rules[0]] },
      {
        ...base,
        rules: [
          ...base.rules,
          { id: "ia", description: "x", prefix: "out/", transitionToInfrequentAccessDays: 30 },
        ],
      },
      { ...base, rules: [{ ...base.rules[0], id: "Bad Id" }] },
      { ...base, buckets: { development: "b-dev" } },
      { ...base, rules: [{ ...base.rules[0], expireDays: 0 }] },
    ];
    for (const config of bad) expect(LifecycleConfig.safeParse(config).success).toBe(false);
    expect(LifecycleConfig.safeParse(base).success).toBe(true);
  });

  it("translates days into the R2 API's ages in seconds", () => {
    const config = LifecycleConfig.parse({
      ...base,
      rules: [
        {
          id: "all",
          description: "x",
          prefix: "a/",
          expireDays: 90,
          transitionToInfrequentAccessDays: 30,
          abortMultipartUploadsDays: 1,
        },
      ],
    });
    expect(toR2LifecyclePolicy(config)).toEqual({
      rules: [
        {
          id: "all",
          enabled: true,
          conditions: { prefix: "a/" },
          deleteObjectsTransition: { condition: { maxAge: 90 * 86_400, type: "Age" } },
          storageClassTransitions: [
            { condition: { maxAge: 30 * 86_400, type: "Age" }, storageClass: "InfrequentAccess" },
          ],
          abortMultipartUploadsTransition: { condition: { maxAge: 86_400, type: "Age" } },
        },
      ],
    });
  });

  it("builds one `wrangler r2 bucket lifecycle set` per environment", () => {
    const config = LifecycleConfig.parse(base);
    expect(wranglerLifecycleCommand(config, "development", "/p.json")).toEqual(
      "wrangler r2 bucket lifecycle set b-dev --file /p.json --force".split(" "),
    );
    expect(planLifecycleApply(config, ["staging", "production"], "/p.json")).toEqual([
      "wrangler r2 bucket lifecycle set b-staging --file /p.json --force --env staging".split(" "),
      "wrangler r2 bucket lifecycle set b-prod --file /p.json --force --env production".split(" "),
    ]);
  });

  it("--dry-run prints the commands and the policy without calling wrangler", () => {
    const out = execFileSync(
      process.execPath,
      ["scripts/apply-r2-lifecycle.ts", "production", "--dry-run"],
      { cwd: new URL("../..", import.meta.url), encoding: "utf8" },
    );
    expect(out).toMatch(
      /^\$ npx wrangler r2 bucket lifecycle set genart-assets-production --file \S+\.json --force --env production$/m,
    );
    const policy = JSON.parse(out.slice(out.indexOf("{")));
    expect(policy).toEqual(toR2LifecyclePolicy(committed));
  });
});
