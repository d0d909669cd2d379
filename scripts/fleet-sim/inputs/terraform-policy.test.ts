import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScalingPolicy, PRODUCTION_FIXTURE } from "./terraform-policy.ts";

describe("the Terraform environment's scaling policy", () => {
  it("reads production's fixture (proven equal to terraform output scaling_policy)", () => {
    const policy = loadScalingPolicy();
    expect(policy.metrics_namespace).toBe("GenArt/Region");
    expect(policy.groups.base.min_size).toBeLessThanOrEqual(policy.groups.base.max_size);
    expect(policy.warm_pool.max_group_prepared_capacity).toBeGreaterThanOrEqual(
      policy.groups.base.max_size,
    );
  });

  it("refuses regions with different policies (one policy is applied to every simulated region)", async () => {
    const env = JSON.parse(await readFile(PRODUCTION_FIXTURE, "utf8"));
    env["eu-west"].groups.burst.max_size += 1;
    const dir = await mkdtemp(join(tmpdir(), "tf-policy-"));
    try {
      await writeFile(join(dir, "p.json"), JSON.stringify(env));
      expect(() => loadScalingPolicy(join(dir, "p.json"))).toThrow(/different scaling policies/);
      env["eu-west"].groups.burst.max_size = "twelve";
      await writeFile(join(dir, "p.json"), JSON.stringify(env));
      expect(() => loadScalingPolicy(join(dir, "p.json"))).toThrow(/max_size/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
