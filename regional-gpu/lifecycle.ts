// Where a node is in its life: loading models, serving, draining, stopped. Readiness (/readyz, the
// heartbeat's `ready`) and intake admission both read it from here.

export type Phase = "starting" | "ready" | "draining" | "stopped";

export class NodeLifecycle {
  private current: Phase = "starting";

  get phase(): Phase {
    return this.current;
  }

  get ready(): boolean {
    return this.current === "ready";
  }

  get draining(): boolean {
    return this.current === "draining" || this.current === "stopped";
  }

  markReady(): void {
    if (this.current === "starting") this.current = "ready";
  }

  /** Answers false when a drain had already begun. */
  beginDrain(): boolean {
    if (this.draining) return false;
    this.current = "draining";
    return true;
  }

  markStopped(): void {
    this.current = "stopped";
  }
}
