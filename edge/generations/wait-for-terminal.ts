import { TERMINAL_STATUSES } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";

export interface WaitDeps {
  db: Database;
  notifier: GenerationNotifier;
  /** Re-read period: events applied in another isolate reach this one only through the database. */
  pollMs: number;
}

/**
 * Holds until the generation is terminal or `timeoutMs` passes, whichever is first, and returns
 * the row as then stored. Wakes early on an in-process notification.
 */
export async function waitForTerminal(
  row: GenerationRow,
  timeoutMs: number,
  deps: WaitDeps,
): Promise<GenerationRow> {
  // Elapsed time, not the app clock (which tests may freeze).
  const deadline = performance.now() + timeoutMs;
  // Watching before the re-read: a change landing in between is not missed.
  const watch = deps.notifier.watch(row.id);
  try {
    let current = (await getGeneration(deps.db, row.id)) ?? row;
    while (!TERMINAL_STATUSES.has(current.status)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await watch.changed(Math.min(left, deps.pollMs));
      current = (await getGeneration(deps.db, row.id)) ?? current;
    }
    return current;
  } finally {
    watch.close();
  }
}
