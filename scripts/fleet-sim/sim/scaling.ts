// The scaling policies as EC2 Auto Scaling runs them, one decision per group per minute from that
// minute's CloudWatch datapoints:
// - target tracking: scale out when 3 consecutive datapoints are above the target, to
//   ceil(serving x metric / target) (proportional, as far as the metric says); scale in when 15
//   consecutive datapoints are below 90% of it, by the same rule; a missing datapoint breaks a run
//   (AWS's own alarms for a target tracking policy: 3 of 3 above, 15 of 15 below);
// - step scaling on OldestJobAgeSeconds: while the Maximum is at or above the first step's age, add
//   that step's instances, less those still launching or warming up (AWS counts in-progress
//   adjustments against a repeated alarm);
// - capacity stays within [min, max].

export interface TargetTracking {
  /**
   * backlog: BacklogPerInstance as the nodes publish it, jobs queued or running per node taking
   * jobs; queue: queued jobs only per node (AWS's SQS pattern); cpu: average CPU utilisation (%).
   */
  metric: "backlog" | "queue" | "cpu";
  target: number;
}

export interface AgeStep {
  ageSeconds: number;
  add: number;
}

export interface Datapoints {
  /** The tracked metric's value for the minute (backlog per instance, or CPU 0..1); null if missing. */
  metric: number | null;
  /** Maximum of OldestJobAgeSeconds over the minute; null if missing. */
  oldestAgeS: number | null;
}

export interface GroupState {
  minSize: number;
  maxSize: number;
  desired: number;
  /** Serving instances (InService, past launch). */
  serving: number;
  /** Instances launching, or serving but still inside the instance warm-up. */
  warming: number;
}

export const HIGH_POINTS = 3;
export const LOW_POINTS = 15;
export const LOW_RATIO = 0.9;

export class GroupScaler {
  private readonly tracking: TargetTracking | null;
  private readonly steps: readonly AgeStep[];
  private high = 0;
  private low = 0;

  constructor(tracking: TargetTracking | null, steps: readonly AgeStep[]) {
    this.tracking = tracking;
    this.steps = [...steps].sort((a, b) => a.ageSeconds - b.ageSeconds);
  }

  /** The group's desired capacity after this minute's datapoints. */
  decide(points: Datapoints, group: GroupState): number {
    let desired = group.desired;
    const t = this.tracking;
    if (t) {
      const m = points.metric;
      if (m === null) {
        this.high = this.low = 0;
      } else if (m > t.target) {
        this.high++;
        this.low = 0;
      } else if (m < LOW_RATIO * t.target) {
        this.low++;
        this.high = 0;
      } else {
        this.high = this.low = 0;
      }
      if (m !== null && this.high >= HIGH_POINTS) {
        desired = Math.max(desired, Math.ceil((Math.max(group.serving, 1) * m) / t.target));
      } else if (m !== null && this.low >= LOW_POINTS) {
        const want = Math.ceil((group.serving * m) / t.target);
        if (want < desired) {
          desired = want;
          this.low = 0;
        }
      }
    }
    const age = points.oldestAgeS;
    if (age !== null && this.steps.length > 0 && age >= this.steps[0]!.ageSeconds) {
      let add = 0;
      for (const step of this.steps) if (age >= step.ageSeconds) add = step.add;
      desired = Math.max(desired, group.desired + Math.max(0, add - group.warming));
    }
    return Math.min(group.maxSize, Math.max(group.minSize, desired));
  }
}
