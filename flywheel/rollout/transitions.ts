import type { ModelVersionStatus, RolloutAction } from "../../db/schema/models.ts";

// The rollout state machine, pure: what a step does to a model's versions, or why it may not.
//   candidate --canary(share)--> canary --ramp(share)--> canary
//   canary --promote--> default (the previous default becomes a candidate: still served when pinned)
//   candidate --promote--> default (first release, or an operator's direct switch)
//   canary --rollback--> retired;  any --retire--> retired;  retired --restore--> candidate
// Retiring the default withdraws the model from unpinned requests (refused while a canary is out).

export interface VersionState {
  id: string;
  version: string;
  status: ModelVersionStatus;
  trafficShare: number;
  /** The manifest: a trained version's `lineage.offline_eval` gates its rollout. */
  manifest?: Record<string, unknown>;
}

export interface VersionChange {
  id: string;
  version: string;
  action: RolloutAction;
  from: ModelVersionStatus;
  to: ModelVersionStatus;
  share: number;
}

/** `force`: start a canary or promote despite a failed offline evaluation (an operator's call). */
export type RolloutStep =
  | { action: "canary" | "ramp"; version: string; share: number; force?: boolean }
  | { action: "promote"; version: string; force?: boolean }
  | { action: "rollback" | "retire" | "restore"; version: string };

export class RolloutError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "RolloutError";
    this.code = code;
  }
}

const change = (v: VersionState, action: RolloutAction, to: ModelVersionStatus, share = 0) => ({
  id: v.id,
  version: v.version,
  action,
  from: v.status,
  to,
  share,
});

function requireStatus(v: VersionState, allowed: ModelVersionStatus[], step: string): void {
  if (!allowed.includes(v.status)) {
    throw new RolloutError(
      "invalid_transition",
      `cannot ${step} ${v.version}: it is ${v.status} (must be ${allowed.join(" or ")})`,
    );
  }
}

function checkShare(share: number): void {
  if (!(share > 0 && share <= 1)) {
    throw new RolloutError("invalid_share", `traffic share must be in (0, 1], got ${share}`);
  }
}

/**
 * Whether a version may take traffic by its offline evaluation: a trained version (its manifest
 * has `lineage`) only when `lineage.offline_eval.beats_parent` is true; a built one always.
 */
export function passesOfflineGate(manifest: Record<string, unknown> | undefined): boolean {
  const lineage = manifest?.lineage as { offline_eval?: { beats_parent?: unknown } } | undefined;
  return lineage === undefined || lineage.offline_eval?.beats_parent === true;
}

function requireOfflineGate(v: VersionState, force: boolean | undefined): void {
  if (force || passesOfflineGate(v.manifest)) return;
  throw new RolloutError(
    "offline_evaluation_failed",
    `${v.version} did not beat its parent on held-out pairs: no rollout (force to override)`,
  );
}

/** The changes `step` makes to `versions` (one model's), in the order they are applied. */
export function planRollout(versions: readonly VersionState[], step: RolloutStep): VersionChange[] {
  const target = versions.find((v) => v.version === step.version);
  if (!target) throw new RolloutError("version_not_found", `no version ${step.version}`);
  const current = versions.find((v) => v.status === "default") ?? null;
  const canary = versions.find((v) => v.status === "canary") ?? null;
  switch (step.action) {
    case "canary":
    case "ramp": {
      checkShare(step.share);
      if (target.status === "canary") return [change(target, "ramp", "canary", step.share)];
      requireStatus(target, ["candidate"], "start a canary of");
      requireOfflineGate(target, step.force);
      if (canary) {
        throw new RolloutError(
          "canary_in_progress",
          `${canary.version} is already the canary: promote, roll back or retire it first`,
        );
      }
      return [change(target, "canary", "canary", step.share)];
    }
    case "promote": {
      requireStatus(target, ["canary", "candidate"], "promote");
      if (target.status === "candidate") requireOfflineGate(target, step.force);
      const demoted = current ? [change(current, "promote", "candidate")] : [];
      return [...demoted, change(target, "promote", "default")];
    }
    case "rollback":
      requireStatus(target, ["canary"], "roll back");
      return [change(target, "rollback", "retired")];
    case "retire":
      // Retiring the default withdraws the model from unpinned requests: only without a canary,
      // which would otherwise take all of them unannounced.
      if (target.status === "default" && canary) {
        throw new RolloutError(
          "canary_in_progress",
          `cannot retire the default ${target.version} while ${canary.version} is a canary`,
        );
      }
      requireStatus(target, ["candidate", "canary", "default"], "retire");
      return [change(target, "retire", "retired")];
    case "restore":
      requireStatus(target, ["retired"], "restore");
      return [change(target, "restore", "candidate")];
  }
}
