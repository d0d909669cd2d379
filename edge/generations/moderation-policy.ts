import { ModerationPolicy } from "../../contracts/region-protocol.ts";
import type { Project } from "../../db/schema/projects.ts";

/**
 * The output-moderation policy a project's jobs carry to the region. The stored jsonb may hold
 * settings for other stages too: only the fields of the protocol's policy are sent. Undefined
 * (region default: standard) without a project or for a policy the protocol cannot carry.
 */
export function moderationPolicyOf(project: Project | null): ModerationPolicy | undefined {
  if (!project) return undefined;
  const { strictness, thresholds } = project.moderationPolicy;
  const parsed = ModerationPolicy.safeParse({ strictness, thresholds });
  return parsed.success ? parsed.data : undefined;
}
