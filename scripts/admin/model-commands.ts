import { z } from "zod";
import type { Database } from "../../db/client/index.ts";
import { applyRolloutStep, RolloutError } from "../../db/queries/models.ts";
import { modelCatalog } from "../../edge/routes/model-catalog.ts";
import { evaluateRollouts } from "../../flywheel/rollout/controller.ts";
import type { RolloutStep } from "../../flywheel/rollout/transitions.ts";

// `npm run admin -- models [list|evaluate|canary|ramp|promote|rollback|retire|restore]`: the model
// catalog with rollout states, metrics and history, the rollout controller's pass, and manual steps
// (each one a row in the rollout history with actor "admin").

export const ModelsCommand = z.strictObject({
  command: z.literal("models"),
  action: z
    .enum(["list", "evaluate", "canary", "ramp", "promote", "rollback", "retire", "restore"])
    .default("list"),
  model: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  share: z.coerce.number().optional(),
  reason: z.string().trim().min(1).max(500).optional(),
  force: z.boolean().optional(),
});
export type ModelsCommand = z.output<typeof ModelsCommand>;

export async function runModelsCommand(
  db: Database,
  cmd: ModelsCommand,
  fail: (code: string, message: string) => Error,
): Promise<Record<string, unknown>> {
  if (cmd.action === "list") return { models: await modelCatalog(db) };
  if (cmd.action === "evaluate") {
    const outcomes = await evaluateRollouts(db);
    return {
      rollouts: outcomes.map((o) => ({ ...o, decision: { ...o.decision, evidence: undefined } })),
    };
  }
  if (!cmd.model || !cmd.version) {
    throw fail("invalid_command", `models ${cmd.action} needs --model and --version`);
  }
  const step = stepOf(cmd, fail);
  try {
    const changes = await applyRolloutStep(db, cmd.model, step, {
      actor: "admin",
      reason: cmd.reason ?? `${cmd.action} by an operator`,
    });
    return { changes };
  } catch (error) {
    if (error instanceof RolloutError) throw fail(error.code, error.message);
    throw error;
  }
}

function stepOf(cmd: ModelsCommand, fail: (code: string, message: string) => Error): RolloutStep {
  const version = cmd.version!;
  switch (cmd.action) {
    case "canary":
    case "ramp":
      if (cmd.share === undefined)
        throw fail("invalid_command", `models ${cmd.action} needs --share`);
      return { action: cmd.action, version, share: cmd.share, force: cmd.force };
    case "promote":
      return { action: "promote", version, force: cmd.force };
    default:
      return { action: cmd.action as "rollback" | "retire" | "restore", version };
  }
}

/** Human-readable lines for `models` results. */
export function printModels(result: Record<string, unknown>, print: (line: string) => void): void {
  const catalog = result.models as Awaited<ReturnType<typeof modelCatalog>> | undefined;
  if (catalog?.length === 0) print("no model registered (npm run db:register-models)");
  for (const m of catalog ?? []) {
    print(`${m.name}  default ${m.default_version ?? "(none)"}`);
    for (const v of m.versions) {
      const share = v.status === "canary" ? ` ${Math.round(v.traffic_share * 100)}%` : "";
      const r = v.metrics;
      print(
        `  ${v.version.padEnd(24)} ${(v.status + share).padEnd(12)} served ${r.served}  like ${r.like_rate}  refine ${r.refine_rate}  report ${r.report_rate}  fail ${r.failure_rate}${v.parent_version ? `  from ${v.parent_version}` : ""}`,
      );
    }
    for (const h of m.rollouts.slice(0, 10)) {
      print(
        `  ${h.created_at}  ${h.action.padEnd(8)} ${h.version}  ${h.from_status ?? "-"} -> ${h.to_status}  (${h.actor}: ${h.reason})`,
      );
    }
  }
  const changes = result.changes as
    Array<{ version: string; from: string; to: string; share: number }> | undefined;
  for (const c of changes ?? [])
    print(`${c.version}: ${c.from} -> ${c.to}${c.to === "canary" ? ` (${c.share})` : ""}`);
  const rollouts = result.rollouts as
    | Array<{ model: string; canary: string; decision: { action: string; reason: string } }>
    | undefined;
  for (const o of rollouts ?? [])
    print(`${o.model}@${o.canary}: ${o.decision.action} (${o.decision.reason})`);
  if (rollouts?.length === 0) print("no canary in progress");
}
