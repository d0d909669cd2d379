import type { ExecutionProviderChoice } from "../config.ts";
import { WorkerSessionFactory } from "../inference/worker-sessions.ts";
import type { Logger } from "../log.ts";
import type { SessionFactory } from "../models/session-factory.ts";
import type { ClassifierModel } from "./classifier-options.ts";
import { OnnxClassifier } from "./onnx-classifier.ts";
import { OutputModerator } from "./output-moderator.ts";

// The output moderator of a node: the screening classifier, loaded before the node takes jobs, and
// the confirming one, loaded on the first flag (about one image in a hundred on abstract art), so a
// node that never needs it never loads it. Both are ONNX Runtime sessions on the node's execution
// provider, on a moderation executor thread of their own: a batch's checks run beside the next
// batch's inference rather than queued behind it. The classifiers hold no per-node state, so nodes
// in one process (tests, benchmarks, an in-process local stack) share one set, counted by lease; the
// last release closes it after a short linger, which spares a node restarted at once from loading
// the models again. Neither the idle executor thread nor the linger timer keeps the process alive.

export interface ModeratorOptions {
  screenModel: ClassifierModel;
  /** null: the screen's verdict always stands. */
  confirmModel: ClassifierModel | null;
  /** ORT_EP: the classifiers run where the generator runs. */
  executionProvider: ExecutionProviderChoice;
  /** Where converted classifiers are cached (MODERATION_MODEL_DIR). */
  dir: string;
  logger: Logger;
  /** Where sessions are created; default: a moderation executor thread (WorkerSessionFactory). */
  sessions?: SessionFactory;
}

export interface StartedModerator {
  moderator: OutputModerator;
  screen: OnnxClassifier;
  confirm: OnnxClassifier | null;
  close(): Promise<void>;
}

export interface ModeratorLease {
  moderator: OutputModerator;
  release(): void;
}

const LINGER_MS = 10_000;

interface Entry {
  ready: Promise<StartedModerator>;
  leases: number;
  linger: NodeJS.Timeout | null;
}

const shared = new Map<string, Entry>();

/** Loads the screening classifier; the confirming one loads on first use. */
export async function startModerator(opts: ModeratorOptions): Promise<StartedModerator> {
  const { screenModel, confirmModel, executionProvider, dir, logger } = opts;
  const executor = opts.sessions
    ? null
    : new WorkerSessionFactory({ choice: executionProvider, logger });
  const sessions = opts.sessions ?? executor!;
  const screen = new OnnxClassifier({ model: screenModel, sessions, dir, logger });
  const confirm = confirmModel
    ? new OnnxClassifier({ model: confirmModel, sessions, dir, logger })
    : null;
  const close = async () => {
    await Promise.all([screen.close(), confirm?.close()]);
    await executor?.close();
  };
  try {
    await screen.load();
  } catch (err) {
    await close();
    throw err;
  }
  return { moderator: new OutputModerator({ screen, confirm }), screen, confirm, close };
}

/**
 * A lease on the process's moderator for these options, started on first use. After the last
 * release it lingers `lingerMs` for a node that starts again.
 */
export async function acquireModerator(
  opts: Omit<ModeratorOptions, "sessions">,
  lingerMs = LINGER_MS,
): Promise<ModeratorLease> {
  const { screenModel, confirmModel, executionProvider, dir } = opts;
  const key = JSON.stringify([screenModel, confirmModel, executionProvider, dir]);
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
