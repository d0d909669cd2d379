import type { Logger } from "../log.ts";
import { ClassifierPool, LazyClassifierPool } from "./classifier-pool.ts";
import type { ClassifierBackend, ClassifierModel } from "./classifier-options.ts";
import { OutputModerator } from "./output-moderator.ts";

// The output moderator of a node: a pool of screening workers and one confirming worker. The
// classifiers hold no per-node state, so nodes in one process (tests, benchmarks, an in-process local
// stack) share one set, counted by lease; the last release closes it after a short linger, which
// spares a node restarted at once from loading the models again. Idle workers never keep the process
// alive, nor does the linger timer.

export interface ModeratorOptions {
  screenModel: ClassifierModel;
  /** null: the screen's verdict always stands. */
  confirmModel: ClassifierModel | null;
  backend: ClassifierBackend;
  /** Screening workers; the confirming classifier, rarely needed, has one. */
  workers: number;
  logger: Logger;
}

export interface ModeratorLease {
  moderator: OutputModerator;
  release(): void;
}

const LINGER_MS = 10_000;

interface Entry {
  ready: Promise<{ moderator: OutputModerator; close(): Promise<void> }>;
  leases: number;
  linger: NodeJS.Timeout | null;
}

const shared = new Map<string, Entry>();

/**
 * Starts the screening workers and resolves once they have loaded the model. The confirming
 * classifier starts on the first flag (about one image in a hundred, on abstract art), which then
 * waits for it to load; until then it costs no memory or start-up time.
 */
export async function startModerator(
  opts: ModeratorOptions,
): Promise<{ moderator: OutputModerator; close(): Promise<void> }> {
  const { screenModel, confirmModel, backend, workers, logger } = opts;
  const screen = await ClassifierPool.start({ model: screenModel, backend, workers, logger });
  const confirm = confirmModel
    ? new LazyClassifierPool({ model: confirmModel, backend, workers: 1, logger })
    : null;
  return {
    moderator: new OutputModerator({ screen, confirm }),
    close: async () => {
      await Promise.all([screen.close(), confirm?.close()]);
    },
  };
}

/**
 * A lease on the process's moderator for these options, started on first use. After the last
 * release it lingers `lingerMs` for a node that starts again.
 */
export async function acquireModerator(
  opts: ModeratorOptions,
  lingerMs = LINGER_MS,
): Promise<ModeratorLease> {
  const key = JSON.stringify([opts.screenModel, opts.confirmModel, opts.backend, opts.workers]);
  let entry = shared.get(key);
  if (!entry) {
    const ready = startModerator(opts);
    entry = { ready, leases: 0, linger: null };
    shared.set(key, entry);
    ready.catch(() => shared.delete(key));
  }
  const current = entry;
  current.leases++;
  if (current.linger) clearTimeout(current.linger);
  current.linger = null;
  let started;
  try {
    started = await current.ready;
  } catch (err) {
    current.leases--;
    throw err;
  }
  let released = false;
  return {
    moderator: started.moderator,
    release: () => {
      if (released) return;
      released = true;
      if (--current.leases > 0) return;
      current.linger = setTimeout(() => {
        shared.delete(key);
        void started.close();
      }, lingerMs);
      current.linger.unref();
    },
  };
}
