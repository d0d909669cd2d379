import { ThroughputMeter } from "../../../regional-gpu/metrics/throughput.ts";
import type { InstanceTypes, ServiceProfile } from "../inputs/profiles.ts";
import { GroupScaler, type AgeStep, type TargetTracking } from "./scaling.ts";
import type { SimJob } from "./sim-job.ts";

// Instances and Auto Scaling groups of one region. An instance is
//   warming (cold launch into the warm pool) -> warm (stopped or hibernated: EBS cost only)
//   booting (cold launch, or resumed from the warm pool) -> serving -> (leaving: no new batch, its
//   running batch finishes: the scale-in protection of a busy node) -> stopping (back into the
//   warm pool) or terminated.
// Every state but warm and terminated runs on a GPU and is paid per second; every state but
// terminated pays its EBS volumes.

export type NodeState = "warming" | "warm" | "booting" | "serving" | "stopping" | "terminated";

const RUNNING: ReadonlySet<NodeState> = new Set(["warming", "booting", "serving", "stopping"]);

export interface WarmPoolSpec {
  state: "Stopped" | "Hibernated";
  minSize: number;
  maxPrepared: number;
  reuseOnScaleIn: boolean;
}

export interface GroupSpec {
  role: string;
  minSize: number;
  maxSize: number;
  /** Instances above `onDemandBase` are spot in this share (0: all on demand). */
  onDemandBase: number;
  spotPercentage: number;
  /** On-demand preference order; spot goes to the cheapest per unit of speed. */
  instanceTypes: readonly string[];
  warmPool: WarmPoolSpec | null;
  targetTracking: TargetTracking | null;
  ageSteps: readonly AgeStep[];
  /** A fixed size per region (by index) instead of scaling. */
  fixedSizes?: readonly number[];
  /** Desired capacity per region at the start of the run (default: minSize). */
  initialSizes?: readonly number[];
}

export class SimNode {
  readonly id: number;
  readonly group: SimGroup;
  readonly type: string;
  readonly spot: boolean;
  state: NodeState = "booting";
  since: number;
  /** Jobs of the batch being filled or run; null when idle. */
  batch: SimJob[] | null = null;
  batchKey = -1;
  running = false;
  batchStartedAt = 0;
  /** Invalidates a scheduled batch end or fill deadline that no longer applies. */
  token = 0;
  servingSince = Infinity;
  meter: ThroughputMeter;
  /** Busy ms and images in the current minute (CPU model). */
  busyMs = 0;
  images = 0;
  /** CPU utilisation (0..1) over the last complete minute. */
  cpu = 0;
  runMs = 0;
  ebsMs = 0;
  /** runMs and ebsMs when the billed window opened, and what it billed once closed. */
  openedRunMs = 0;
  openedEbsMs = 0;
  billedRunMs = 0;
  billedEbsMs = 0;
  /** Leaves the group once its batch is done (scale-in, spot notice). */
  leaving: "pool" | "terminate" | null = null;

  constructor(
    id: number,
    group: SimGroup,
    type: string,
    spot: boolean,
    now: number,
    clock: () => number,
  ) {
    this.id = id;
    this.group = group;
    this.type = type;
    this.spot = spot;
    this.since = now;
    this.meter = new ThroughputMeter({ now: clock });
  }

  /** Adds the time in the current state to the node's bills, and enters `state`. */
  enter(state: NodeState, now: number): void {
    const elapsed = now - this.since;
    if (RUNNING.has(this.state)) this.runMs += elapsed;
    if (this.state !== "terminated") this.ebsMs += elapsed;
    this.state = state;
    this.since = now;
  }

  get idle(): boolean {
    return this.state === "serving" && this.batch === null;
  }
}

export interface FleetHooks {
  now(): number;
  clock(): number;
  /** A node was asked to start (cold or from the warm pool) and will be ready after `ms`. */
  boot(node: SimNode, ms: number): void;
  /** A node was launched into the warm pool; it is prepared (then stopped) after `ms`. */
  prepare(node: SimNode, ms: number): void;
  /** A node leaves: drain it (after its batch) and stop or terminate it. */
  retire(node: SimNode, to: "pool" | "terminate"): void;
  /** A spot node was launched: its interruption, if any, is scheduled. */
  launchedSpot(node: SimNode): void;
  nextNodeId(): number;
}

export class SimGroup {
  readonly spec: GroupSpec;
  readonly regionIdx: number;
  readonly scaler: GroupScaler;
  readonly nodes = new Set<SimNode>();
  /** Terminated nodes, kept for the bill. */
  readonly gone: SimNode[] = [];
  desired: number;
  coldStarts = 0;
  warmStarts = 0;
  poolLaunches = 0;
  private readonly profile: ServiceProfile;
  private readonly types: InstanceTypes;
  private readonly hooks: FleetHooks;
  private readonly spotType: string;

  constructor(
    spec: GroupSpec,
    regionIdx: number,
    profile: ServiceProfile,
    types: InstanceTypes,
    hooks: FleetHooks,
  ) {
    this.spec = spec;
    this.regionIdx = regionIdx;
    this.profile = profile;
    this.types = types;
    this.hooks = hooks;
    this.scaler = new GroupScaler(spec.targetTracking, spec.ageSteps);
    this.desired =
      spec.fixedSizes?.[regionIdx] ??
      Math.min(spec.maxSize, Math.max(spec.minSize, spec.initialSizes?.[regionIdx] ?? 0));
    const priced = spec.instanceTypes.map((t) => {
      const type = types.types[t];
      if (!type) throw new Error(`instance type ${t} has no price in instance-types.json`);
      return { t, perSpeed: type.spotUsdPerHour / type.speed };
    });
    this.spotType = priced.sort((a, b) => a.perSpeed - b.perSpeed)[0]!.t;
  }

  /** Counted toward desired: launching or serving, and not on its way out. */
  active(): SimNode[] {
    return [...this.nodes].filter(
      (n) => (n.state === "booting" || n.state === "serving") && n.leaving === null,
    );
  }

  pool(): SimNode[] {
    return [...this.nodes].filter(
      (n) => n.state === "warming" || n.state === "warm" || n.state === "stopping",
    );
  }

  /** Brings the group to its desired capacity, then its warm pool to its size. */
  reconcile(): void {
    const active = this.active();
    for (let n = active.length; n < this.desired; n++) this.launch();
    if (active.length > this.desired) this.shrink(active, active.length - this.desired);
    this.refillPool();
  }

  private launch(): void {
    const now = this.hooks.now();
    const warm = this.pool().find((n) => n.state === "warm");
    if (warm) {
      const pool = this.spec.warmPool!;
      warm.enter("booting", now);
      this.warmStarts++;
      const ms =
        pool.state === "Hibernated"
          ? this.profile.launch.warmHibernatedMs
          : this.profile.launch.warmStoppedMs;
      this.hooks.boot(warm, ms);
      return;
    }
    const spot = this.nextIsSpot();
    const type = spot ? this.spotType : this.spec.instanceTypes[0]!;
    const node = new SimNode(this.hooks.nextNodeId(), this, type, spot, now, this.hooks.clock);
    this.nodes.add(node);
    this.coldStarts++;
    this.hooks.boot(node, this.profile.launch.coldMs);
    if (spot) this.hooks.launchedSpot(node);
  }

  /** A mixed instances policy: on demand up to the base, then spot in its share of the rest. */
  private nextIsSpot(): boolean {
    if (this.spec.spotPercentage <= 0 || this.spec.warmPool) return false;
    const active = this.active();
    const onDemand = active.filter((n) => !n.spot).length;
    if (onDemand < this.spec.onDemandBase) return false;
    const above = active.length - this.spec.onDemandBase;
    const spot = active.length - onDemand;
    return spot < Math.round(((above + 1) * this.spec.spotPercentage) / 100);
  }

  /**
   * Scale-in: idle nodes first (busy ones are protected until their batch ends), then launches not
   * yet serving, then busy nodes, which leave after their batch. Newest first within each.
   */
  private shrink(active: SimNode[], count: number): void {
    const order = (n: SimNode) => (n.idle ? 0 : n.state === "booting" ? 1 : 2);
    const victims = active.sort((a, b) => order(a) - order(b) || b.id - a.id).slice(0, count);
    const reuse = this.spec.warmPool?.reuseOnScaleIn ?? false;
    for (const node of victims) this.hooks.retire(node, reuse ? "pool" : "terminate");
  }

  /** Warm pool size: max(min_size, max prepared - desired), as AWS sizes it. */
  private refillPool(): void {
    const spec = this.spec.warmPool;
    if (!spec) return;
    const target = Math.max(spec.minSize, spec.maxPrepared - this.desired);
    const pool = this.pool();
    for (let n = pool.length; n < target; n++) {
      const node = new SimNode(
        this.hooks.nextNodeId(),
        this,
        this.spec.instanceTypes[0]!,
        false,
        this.hooks.now(),
        this.hooks.clock,
      );
      node.state = "warming";
      this.nodes.add(node);
      this.poolLaunches++;
      this.hooks.prepare(node, this.profile.launch.coldMs);
    }
    const extra = pool
      .filter((n) => n.state === "warm")
      .slice(0, Math.max(0, pool.length - target));
    for (const node of extra) this.terminate(node);
  }

  terminate(node: SimNode): void {
    node.enter("terminated", this.hooks.now());
    this.nodes.delete(node);
    this.gone.push(node);
  }

  /** Every node this group ever had. */
  everyNode(): SimNode[] {
    return [...this.nodes, ...this.gone];
  }

  /** Hourly price of a node of this group. */
  priceOf(node: SimNode): number {
    const type = this.types.types[node.type]!;
    return node.spot ? type.spotUsdPerHour : type.onDemandUsdPerHour;
  }
}
