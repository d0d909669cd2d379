import { TERMINAL_STATUSES, type Generation } from "../../contracts/api.ts";
import type { Database } from "../../db/client/index.ts";
import { getGeneration } from "../../db/queries/generations.ts";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { describeError } from "../lib/describe-error.ts";
import { eventsSince, resumePoint } from "./generation-events.ts";
import type { GenerationNotifier } from "./generation-notifier.ts";
import type { Log } from "../lib/log.ts";

export interface EventStreamDeps {
  db: Database;
  notifier: GenerationNotifier;
  serialize: (row: GenerationRow) => Promise<Generation>;
  log: Log;
  /** Re-read period: changes applied in another isolate or process arrive only this way. */
  pollMs: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  keepAliveMs: number;
  /** The stream closes after this long even if the generation is not finished (clients reconnect). */
  maxStreamMs: number;
}

export interface EventStream {
  body: ReadableStream<Uint8Array>;
  /** Settles when the stream has ended (terminal state, client gone, or maxStreamMs). */
  done: Promise<void>;
}

// EventSource reconnects after this long when a stream closes before the generation finished.
const RETRY_MS = 1_000;
const encoder = new TextEncoder();

/**
 * text/event-stream of one generation: its current state first (or, for a client reconnecting with
 * `lastEventId`, what happened since), then each change, ending after a terminal state. Wakes on
 * in-process notifications and re-reads the row every `pollMs` for changes made elsewhere.
 */
export function generationEventStream(
  first: GenerationRow,
  lastEventId: string | undefined,
  deps: EventStreamDeps,
): EventStream {
  let closed = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          closed = true; // the client went away
        }
      };
      void run(first, lastEventId, write, () => closed, deps)
        .catch((err: unknown) =>
          deps.log({
            level: "error",
            msg: "event stream failed",
            generation_id: first.id,
            error: describeError(err),
          }),
        )
        .finally(() => {
          if (!closed) {
            closed = true;
            controller.close();
          }
          finish();
        });
    },
    cancel() {
      closed = true;
    },
  });
  return { body, done };
}

async function run(
  first: GenerationRow,
  lastEventId: string | undefined,
  write: (text: string) => void,
  isClosed: () => boolean,
  deps: EventStreamDeps,
): Promise<void> {
  const started = performance.now();
  // Watching before the first read: a change landing in between is not missed.
  const watch = deps.notifier.watch(first.id);
  try {
    let row = (await getGeneration(deps.db, first.id)) ?? first;
    write(`retry: ${RETRY_MS}\n\n`);
    // A reconnecting client gets what happened since its last event, not the state it has.
    let last = resumePoint(lastEventId);
    let wroteAt = performance.now();
    for (;;) {
      for (const event of eventsSince(last, row)) {
        const data = JSON.stringify(await deps.serialize(event.row));
        write(`id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`);
        wroteAt = performance.now();
        last = event;
      }
      if (TERMINAL_STATUSES.has(row.status) || isClosed()) return;
      const now = performance.now();
      const left = deps.maxStreamMs - (now - started);
      if (left <= 0) return;
      if (now - wroteAt >= deps.keepAliveMs) {
        write(": keep-alive\n\n");
        wroteAt = now;
      }
      const keepAliveIn = deps.keepAliveMs - (performance.now() - wroteAt);
      await watch.changed(Math.max(1, Math.min(deps.pollMs, left, keepAliveIn)));
      if (isClosed()) return;
      row = (await getGeneration(deps.db, first.id)) ?? row;
    }
  } finally {
    watch.close();
  }
}
