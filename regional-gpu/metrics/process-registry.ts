import { collectDefaultMetrics, Registry } from "prom-client";

// The process's own metrics (CPU, memory, GC, event-loop lag), collected once per process however
// many nodes it runs: the collectors sample process-wide state and install process-wide hooks.

let registry: Registry | null = null;

export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: "genart_" });
  }
  return registry;
}
