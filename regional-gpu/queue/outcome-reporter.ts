import type { JobEvent } from "../../contracts/region-protocol.ts";
import type { Logger } from "../log.ts";
import type { OutcomeLedger, OutcomeRecord } from "./outcome-ledger.ts";

// Sends job events to the edge with the shared queue's guarantee: a job's terminal event (succeeded or
// failed) is recorded in the OutcomeLedger before it is sent, and only the recorded one is ever sent,
// so a job that ran on two nodes is stored, charged and webhooked once. What remains is at-least-once
// delivery of that one event (the edge ignores a repeat): a node killed after the edge took the event
// but before it marked it delivered leaves the next node to send it again. A canceled job's outcome
// is its cancel: nothing its run produces is sent.

export interface JobEventSink {
  /** Resolves true once the edge took the event. */
  send(callbackUrl: string, event: JobEvent): Promise<boolean>;
}

export interface OutcomeReporterOptions {
  ledger: OutcomeLedger;
  events: JobEventSink;
  logger: Logger;
}

type Recorded = Extract<OutcomeRecord, { state: "recorded" }>;

export class OutcomeReporter implements JobEventSink {
  private readonly opts: OutcomeReporterOptions;
  /** Terminal events being recorded or delivered, by job id. */
  private readonly settling = new Map<string, Promise<boolean>>();

  constructor(opts: OutcomeReporterOptions) {
    this.opts = opts;
  }

  send(callbackUrl: string, event: JobEvent): Promise<boolean> {
    if (event.type === "running") return this.opts.events.send(callbackUrl, event);
    return this.track(event.job_id, this.report(callbackUrl, event));
  }

  /** Delivers an outcome another node recorded and may have died before delivering. */
  redeliver(record: Recorded): Promise<boolean> {
    return this.track(record.event.job_id, this.deliver(record.callback_url, record.event));
  }

  /** Settles once the job's terminal event is delivered or given up; undefined when none is pending. */
  settled(jobId: string): Promise<boolean> | undefined {
    return this.settling.get(jobId);
  }

  /** Waits for every pending terminal event. */
  async idle(): Promise<void> {
    await Promise.all(this.settling.values());
  }

  private track(jobId: string, delivery: Promise<boolean>): Promise<boolean> {
    this.settling.set(jobId, delivery);
    void delivery.finally(() => {
      if (this.settling.get(jobId) === delivery) this.settling.delete(jobId);
    });
    return delivery;
  }

  private async report(callbackUrl: string, event: JobEvent): Promise<boolean> {
    const log = this.log(event);
    let existing: OutcomeRecord | null;
    try {
      existing = await this.opts.ledger.claim(callbackUrl, event);
    } catch (err) {
      // Redis is unreachable: losing the outcome would be worse than the edge seeing it twice.
      log.warn("outcome ledger unavailable; sending the event unrecorded", { err });
      return this.opts.events.send(callbackUrl, event);
    }
    if (existing === null) return this.deliver(callbackUrl, event);
    if (existing.state === "canceled") {
      log.info("job was canceled; its outcome is not sent", { dropped: event.type });
      return true;
    }
    if (existing.state === "delivered") {
      log.info("job outcome already delivered by another node; not sent again", {
        outcome_node: existing.node,
        dropped: event.type,
      });
      return true;
    }
    log.info("job outcome already recorded by another node; sending that one", {
      outcome_node: existing.node,
      dropped: event.type,
    });
    return this.deliver(existing.callback_url, existing.event);
  }

  private async deliver(callbackUrl: string, event: JobEvent): Promise<boolean> {
    const delivered = await this.opts.events.send(callbackUrl, event);
    if (delivered) {
      await this.opts.ledger.markDelivered(event.job_id).catch((err: unknown) => {
        this.log(event).warn("could not mark job outcome delivered", { err });
      });
    }
    return delivered;
  }

  private log(event: JobEvent): Logger {
    return this.opts.logger.child({ request_id: event.request_id, job_id: event.job_id });
  }
}
