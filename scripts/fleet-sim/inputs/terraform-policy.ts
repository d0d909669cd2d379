import { readFileSync } from "node:fs";
import { z } from "zod";

// The fleet's scaling exactly as Terraform configures it: the `scaling_policy` output of an
// environment (terraform/envs/<env>), per region. `terraform test` proves that output equal to the
// committed tests/fixtures/scaling_policy.json, which is what the simulator reads, so a change to
// the env files or the module's defaults reaches the simulator (the test fails until the fixture
// follows) without a Terraform binary or an HCL parser here.

const Group = z.object({
  name: z.string(),
  min_size: z.number().int().min(0),
  max_size: z.number().int().min(1),
  backlog_target: z.number().positive(),
});

export const RegionScalingPolicy = z.object({
  metrics_namespace: z.string(),
  period_seconds: z.number().int().positive(),
  instance_types: z.array(z.string()).min(1),
  instance_warmup_seconds: z.number().min(0),
  groups: z.object({ base: Group, burst: Group }),
  burst_mix: z.object({
    on_demand_base_capacity: z.number().int().min(0),
    spot_percentage: z.number().min(0).max(100),
    spot_allocation_strategy: z.string(),
  }),
  warm_pool: z.object({
    pool_state: z.enum(["Stopped", "Hibernated"]),
    min_size: z.number().int().min(0),
    max_group_prepared_capacity: z.number().int().min(0),
    reuse_on_scale_in: z.boolean(),
  }),
  oldest_job_age_steps: z
    .array(z.object({ age_seconds: z.number().positive(), add_instances: z.number().int().min(1) }))
    .min(1),
});
export type RegionScalingPolicy = z.infer<typeof RegionScalingPolicy>;

export const EnvScalingPolicy = z.record(z.string(), RegionScalingPolicy);

export const PRODUCTION_FIXTURE = new URL(
  "../../../terraform/envs/production/tests/fixtures/scaling_policy.json",
  import.meta.url,
);

/**
 * One environment's policy. Its regions share one set of `locals` in main.tf; the simulator applies
 * that policy to each of its regions, so regions that differ (other than in names) are refused.
 */
export function loadScalingPolicy(file: URL | string = PRODUCTION_FIXTURE): RegionScalingPolicy {
  const parsed = EnvScalingPolicy.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${String(file)}: ${z.prettifyError(parsed.error)}`);
  const policies = Object.values(parsed.data);
  if (policies.length === 0) throw new Error(`${String(file)}: no region`);
  const shape = (p: RegionScalingPolicy) =>
    JSON.stringify({
      ...p,
      groups: { base: { ...p.groups.base, name: "" }, burst: { ...p.groups.burst, name: "" } },
    });
  if (new Set(policies.map(shape)).size > 1) {
    throw new Error(
      `${String(file)}: regions have different scaling policies; simulate them one by one`,
    );
  }
  return policies[0]!;
}
