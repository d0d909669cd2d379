import { z } from "zod";

// The repo's R2 lifecycle rules (r2-lifecycle.json) and their translation into what
// `wrangler r2 bucket lifecycle set <bucket> --file <json>` sends to the R2 API (wrangler 4.x:
// a `rules` array of { id, enabled, conditions: { prefix }, deleteObjectsTransition,
// storageClassTransitions, abortMultipartUploadsTransition }, ages in seconds).

const DAY_S = 86_400;
const Days = z.number().int().positive().max(36_500);

export const LifecycleEnvironment = z.enum(["development", "staging", "production"]);
export type LifecycleEnvironment = z.infer<typeof LifecycleEnvironment>;

export const LifecycleRule = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "kebab-case id, at most 64 characters"),
    description: z.string().min(1),
    /** Empty: the whole bucket. */
    prefix: z.string(),
    enabled: z.boolean().default(true),
    expireDays: Days.optional(),
    transitionToInfrequentAccessDays: Days.optional(),
    abortMultipartUploadsDays: Days.optional(),
  })
  .refine(
    (r) =>
      r.expireDays !== undefined ||
      r.transitionToInfrequentAccessDays !== undefined ||
      r.abortMultipartUploadsDays !== undefined,
    { message: "a rule needs at least one action" },
  )
  .refine(
    (r) =>
      r.expireDays === undefined ||
      r.transitionToInfrequentAccessDays === undefined ||
      r.transitionToInfrequentAccessDays < r.expireDays,
    { message: "transition to Infrequent Access must come before expiry" },
  );
export type LifecycleRule = z.infer<typeof LifecycleRule>;

export const LifecycleConfig = z
  .strictObject({
    $comment: z.string().optional(),
    buckets: z.record(LifecycleEnvironment, z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/)),
    rules: z.array(LifecycleRule).min(1),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "id"], message: `duplicate ${rule.id}` });
      }
      seen.add(rule.id);
    });
    // An object already expired can never transition: a bucket-wide expiry must come after every
    // transition that applies to the same objects.
    const expiries = config.rules.filter((r) => r.expireDays !== undefined);
    config.rules.forEach((rule, i) => {
      const ia = rule.transitionToInfrequentAccessDays;
      if (ia === undefined) return;
      for (const e of expiries) {
        if (rule.prefix.startsWith(e.prefix) && e.expireDays! <= ia) {
          ctx.addIssue({
            code: "custom",
            path: ["rules", i, "transitionToInfrequentAccessDays"],
            message: `objects expire (rule ${e.id}) before they would transition`,
          });
        }
      }
    });
  });
export type LifecycleConfig = z.infer<typeof LifecycleConfig>;

const age = (days: number) => ({ condition: { maxAge: days * DAY_S, type: "Age" as const } });

/** The R2 API's rule, as `wrangler r2 bucket lifecycle set --file` expects it. */
export function toR2Rule(rule: LifecycleRule) {
  return {
    id: rule.id,
    enabled: rule.enabled,
    conditions: { prefix: rule.prefix },
    ...(rule.expireDays !== undefined && { deleteObjectsTransition: age(rule.expireDays) }),
    ...(rule.transitionToInfrequentAccessDays !== undefined && {
      storageClassTransitions: [
        { ...age(rule.transitionToInfrequentAccessDays), storageClass: "InfrequentAccess" },
      ],
    }),
    ...(rule.abortMultipartUploadsDays !== undefined && {
      abortMultipartUploadsTransition: age(rule.abortMultipartUploadsDays),
    }),
  };
}

export const toR2LifecyclePolicy = (config: LifecycleConfig) => ({
  rules: config.rules.map(toR2Rule),
});

/**
 * The wrangler invocation that replaces the bucket's whole lifecycle configuration with the file's
 * (set, not add: rules removed from the repo are removed from the bucket too).
 */
export function wranglerLifecycleCommand(
  config: LifecycleConfig,
  env: LifecycleEnvironment,
  policyFile: string,
): string[] {
  const bucket = config.buckets[env];
  if (bucket === undefined) throw new Error(`no bucket configured for ${env}`);
  const envFlag = env === "development" ? [] : ["--env", env];
  return [
    "wrangler",
    "r2",
    "bucket",
    "lifecycle",
    "set",
    bucket,
    "--file",
    policyFile,
    "--force",
    ...envFlag,
  ];
}
