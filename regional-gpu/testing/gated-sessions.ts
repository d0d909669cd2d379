import { createLogger } from "../log.ts";
import { OrtSessionFactory, type SessionFactory } from "../models/session-factory.ts";

/**
 * CPU sessions whose `run`, once `close()`d (after the node's warm-up runs), waits until `open()`: a
 * test can hold a job "running" for as long as it needs, instead of racing the model's speed.
 * `runs()` counts the calls of `run` (warm-up included), each counted as it is made.
 */
export function gatedSessions(): {
  factory: SessionFactory;
  close(): void;
  open(): void;
  runs(): number;
} {
  let closed = false;
  let runs = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inner = new OrtSessionFactory({ choice: "cpu", logger: createLogger({ level: "silent" }) });
  const factory: SessionFactory = {
    async create(modelPath) {
      const created = await inner.create(modelPath);
      const session = new Proxy(created.session, {
        get(target, prop, receiver) {
          if (prop !== "run") return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<typeof target.run>) => {
            runs += 1;
            if (closed) await gate;
            return target.run(...args);
          };
        },
      });
      return { ...created, session };
    },
  };
  return { factory, close: () => (closed = true), open, runs: () => runs };
}
