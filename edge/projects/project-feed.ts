import type { Generation } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import {
  latestProjectChange,
  listProjectChanges,
  type FeedPosition,
} from "../../db/queries/projects.ts";
import { isHiddenState } from "../../db/queries/reviews.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { describeError } from "../lib/describe-error.ts";
import { sseBody, type SseBody } from "../lib/sse-body.ts";
import type { Log } from "../lib/log.ts";

export interface ProjectFeedDeps {
  db: Database;
  /** Who reads the feed: others' outputs hidden by reports are left out for them. */
  viewerId: string;
  serialize: (row: GenerationRow) => Promise<Generation>;
  log: Log;
  /** How often the project's changes are read (every isolate's writes arrive this way). */
  pollMs: number;
  keepAliveMs: number;
  maxStreamMs: number;
}

const RETRY_MS = 1_000;

/** `Last-Event-ID` of a feed event: the change's time (ms) and generation id. Pure. */
export const feedEventId = (p: FeedPosition) => `${p.updatedAt.getTime()}_${p.id}`;

export function parseFeedEventId(text: string | undefined): FeedPosition | null {
  const m = /^(\d{1,16})_(gen_[0-9a-z]{26})$/.exec(text ?? "");
  return m ? { updatedAt: new Date(Number(m[1])), id: m[2]! } : null;
}

/**
 * text/event-stream of a project's generations as they are created and change state: one
 * `generation` event per change (data: the Generation), from the moment the client connects (or
 * after its `Last-Event-ID`). Collaborators see each other's work land without polling the list.
 */
export function projectFeed(
  projectId: string,
  lastEventId: string | undefined,
  deps: ProjectFeedDeps,
): SseBody {
  return sseBody(
    async (write, isClosed) => {
      const started = performance.now();
      let position =
        parseFeedEventId(lastEventId) ?? (await latestProjectChange(deps.db, projectId));
      write(`retry: ${RETRY_MS}\n\n`);
      let wroteAt = performance.now();
      while (!isClosed()) {
        const changes = await listProjectChanges(deps.db, projectId, position);
        for (const row of changes) {
          position = { updatedAt: row.updatedAt, id: row.id };
          if (row.accountId !== deps.viewerId && isHiddenState(row.reviewState)) continue;
          const data = JSON.stringify(await deps.serialize(row));
          write(`id: ${feedEventId(position)}\nevent: generation\ndata: ${data}\n\n`);
          wroteAt = performance.now();
        }
        if (changes.length === 100) continue;
        const now = performance.now();
        if (now - started >= deps.maxStreamMs) return;
        if (now - wroteAt >= deps.keepAliveMs) {
          write(": keep-alive\n\n");
          wroteAt = now;
        }
        await new Promise((resolve) => setTimeout(resolve, deps.pollMs));
      }
    },
    (err) =>
      deps.log({
        level: "error",
        msg: "project feed failed",
        project_id: projectId,
        error: describeError(err),
      }),
  );
}
