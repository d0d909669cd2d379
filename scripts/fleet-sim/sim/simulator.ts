import { noteAttempt } from "../../../edge/routing/dispatch.ts";
import type { GeoPoint } from "../../../edge/routing/geo.ts";
import { distanceRttMs } from "../../../edge/routing/network-rtt.ts";
import { RegionDirectory } from "../../../edge/routing/region-directory.ts";
import { batchWaitsUntil, type BatchLimits } from "../../../regional-gpu/scheduler/batch-policy.ts";
import type { InstanceTypes, ServiceProfile } from "../inputs/profiles.ts";
import { SHAPES, MINUTE_MS, type Arrival, type ArrivalSource } from "../workload/arrivals.ts";
import { regionConfigs, type Metro, type SimRegionSite } from "../workload/geography.ts";
import { EventHeap } from "./event-heap.ts";
import { SimGroup, type GroupSpec, type SimNode } from "./fleet.ts";
import { heartbeatFor } from "./node-heartbeat.ts";
import { RegionQueue } from "./region-queue.ts";
import { MinuteSeries, Outcome, RequestLog } from "./results.ts";
import { ServiceTimes } from "./service-time.ts";
import { newSimJob, type SimJob } from "./sim-job.ts";

// One policy, one workload, one deterministic run. The edge is the real RegionDirectory (its clock
// is the simulated one), fed with real heartbeats (heartbeatOf of the node's status) and told every
// dispatch outcome through the real noteAttempt; it picks the region of every request. Regions queue
// by the node's lane rule and batch by the scheduler's rule; their Auto Scaling groups follow the
// policy from the CloudWatch datapoints the nodes would publish.

export interface PolicySpec {
  name: string;
  label: string;
  groups: GroupSpec[];
  instanceWarmupMs: number;
  maxQueueDepth: number;
}

export interface EdgeParams {
  heartbeatTtlMs: number;
  dispatchTimeoutMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  maxDispatchAttempts: number;
  /** After its region goes silent this long, a dispatched job is redispatched (the lease sweep). */
  leaseMs: number;
}

export interface NodeParams {
  queueAgingMs: number;
  heartbeatIntervalMs: number;
  metricsSampleMs: number;
  /** Shared queue: a job whose node vanished mid-batch is back on the queue after this long. */
  queueLockMs: number;
  batching: BatchLimits;
}

export interface RegionLoss {
  region: string;
  atMs: number;
  durationMs: number;
}

export interface SimulationConfig {
  policy: PolicySpec;
  sites: readonly SimRegionSite[];
  metros: readonly Metro[];
  arrivals: ArrivalSource;
  /** Arrivals stop here; bills are closed here. */
  durationMs: number;
  /**
   * The first part of the run that is simulated but not measured (requests, bills, series), so
   * the fleet has settled to the traffic when measuring starts.
   */
  warmupMs?: number;
  /** Afterwards, how long work already accepted may still finish. */
  drainMs: number;
  profile: ServiceProfile;
  types: InstanceTypes;
  seed: number;
  edge: EdgeParams;
  node: NodeParams;
  regionLoss?: RegionLoss | null;
  /** Multiplies every type's spot interruption rate (tests of the mechanism). */
  spotRateFactor?: number;
  /** How long after a minute ends its datapoints reach the alarms and are acted on. */
  evaluationDelayMs?: number;
}

type Kind =
  | "batch-done"
  | "fill-due"
  | "booted"
  | "prepared"
  | "stopped"
  | "heartbeat"
  | "sample"
  | "minute"
  | "evaluate"
  | "spot-notice"
  | "spot-reclaim"
  | "region-down"
  | "region-up"
  | "enqueue"
  | "redispatch"
  | "requeue";

interface NodeEvent {
  node: SimNode;
  token: number;
}

export class SimRegion {
  readonly idx: number;
  readonly name: string;
  readonly queue: RegionQueue;
  readonly groups: SimGroup[] = [];
  down = false;
  /** Nodes taking jobs (serving, not leaving): what activeNodes() counts. */
  taking = 0;
  readonly idle = new Set<SimNode>();
  readonly filling = new Map<number, SimNode[]>();
  /** This minute's publisher samples, and the last complete minute's datapoints. */
  backlogSum = 0;
  queueSum = 0;
  backlogSamples = 0;
  ageMax = -1;
  lastBacklog: number | null = null;
  lastQueue: number | null = null;
  lastAge: number | null = null;

  constructor(idx: number, name: string, queue: RegionQueue) {
    this.idx = idx;
    this.name = name;
    this.queue = queue;
  }
}

export interface RunResult {
  policy: PolicySpec;
  log: RequestLog;
  series: MinuteSeries;
  nodes: SimNode[];
  groups: SimGroup[];
  regions: SimRegion[];
  spotInterruptions: number;
  redispatched: number;
  events: number;
  /** The measured window: requests arriving in it, bills and series. */
  measuredFrom: number;
  billedUntil: number;
  /** Instances serving per region, most at once. */
  peakServing: number[];
}

const MONTH_MS = 730 * 3_600_000;

export class Simulation {
  private readonly cfg: SimulationConfig;
  private readonly heap = new EventHeap<Kind>();
  private readonly directory: RegionDirectory;
  private readonly regions: SimRegion[];
  private readonly byName = new Map<string, SimRegion>();
  private readonly clients: GeoPoint[];
  /** Round trip from each metro to each region (the edge's distance model). */
  private readonly rtt: Float64Array[];
  private readonly service: ServiceTimes;
  private readonly log = new RequestLog();
  private readonly series = new MinuteSeries();
  private readonly random: () => number;
  private readonly modelRef: string;
  private readonly warmModels: string[];
  private now = 0;
  private nodeIds = 0;
  private events = 0;
  private spotInterruptions = 0;
  private redispatched = 0;
  private minuteArrivals = 0;
  private billed = false;
  private readonly peakServing: number[];

  constructor(cfg: SimulationConfig) {
    this.cfg = cfg;
    const clock = () => this.now;
    this.directory = new RegionDirectory(regionConfigs(cfg.sites), {
      clock,
      heartbeatTtlMs: cfg.edge.heartbeatTtlMs,
      breakerThreshold: cfg.edge.breakerThreshold,
      breakerCooldownMs: cfg.edge.breakerCooldownMs,
    });
    this.clients = cfg.metros.map((m) => ({ lat: m.lat, lon: m.lon }));
    this.rtt = cfg.metros.map((m) => Float64Array.from(cfg.sites, (s) => distanceRttMs(m, s)));
    this.service = new ServiceTimes(cfg.profile, cfg.types, SHAPES, cfg.node.batching.maxBatch);
    this.modelRef = cfg.profile.model;
    this.warmModels = [cfg.profile.model];
    let state = (cfg.seed ^ 0x5bd1e995) >>> 0 || 1;
    this.random = () => {
      // xorshift32: spot interruptions only; arrivals have their own stream.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x1_0000_0000;
    };
    this.regions = cfg.sites.map((site, i) => {
      const region = new SimRegion(
        i,
        site.name,
        new RegionQueue(SHAPES.length, cfg.node.queueAgingMs),
      );
      this.byName.set(site.name, region);
      return region;
    });
    this.peakServing = this.regions.map(() => 0);
    for (const region of this.regions) {
      for (const spec of cfg.policy.groups) {
        region.groups.push(new SimGroup(spec, region.idx, cfg.profile, cfg.types, this.hooks()));
      }
    }
  }

  run(): RunResult {
    const { cfg } = this;
    for (const region of this.regions) {
      for (const group of region.groups) group.reconcile();
      // Each region heartbeats on its own phase.
      this.heap.push(
        (region.idx * cfg.node.heartbeatIntervalMs) / this.regions.length,
        "heartbeat",
        region,
      );
    }
    // The run starts with the fleet already up: minimum capacity serving, warm pools prepared.
    for (const region of this.regions) {
      for (const group of region.groups) {
        for (const node of group.nodes) {
          if (node.state === "booting") this.booted(node, true);
          else if (node.state === "warming") node.enter("warm", 0);
        }
        group.coldStarts = group.poolLaunches = 0;
      }
    }
    this.heap.push(cfg.node.metricsSampleMs / 2, "sample");
    this.heap.push(MINUTE_MS, "minute");
    this.heap.push(MINUTE_MS + (cfg.evaluationDelayMs ?? 45_000), "evaluate");
    const loss = cfg.regionLoss;
    if (loss) {
      const region = this.byName.get(loss.region);
      if (!region) throw new Error(`region ${loss.region} is not simulated`);
      this.heap.push(loss.atMs, "region-down", region);
      this.heap.push(loss.atMs + loss.durationMs, "region-up", region);
    }
    const end = cfg.durationMs + cfg.drainMs;
    let batch: Arrival[] | null = cfg.arrivals.nextMinute();
    let i = 0;
    for (;;) {
      while (batch !== null && i >= batch.length) {
        batch = cfg.arrivals.nextMinute();
        i = 0;
      }
      const arrival = batch !== null && batch[i]!.at < cfg.durationMs ? batch[i]! : null;
      if (arrival === null) batch = null;
      const nextEvent = this.heap.peekAt();
      if (arrival && arrival.at <= nextEvent) {
        this.advance(arrival.at);
        this.arrive(arrival);
        i++;
        continue;
      }
      if (nextEvent > end) break;
      const event = this.heap.pop()!;
      this.advance(event.at);
      this.events++;
      this.handle(event.kind, event.ref);
      if (batch === null && this.now >= cfg.durationMs && this.idleEverywhere()) break;
    }
    this.advance(Math.max(this.now, cfg.durationMs));
    // Whatever is still waiting when the drain time is up never finished.
    for (let i = 0; i < this.log.count; i++) {
      if (this.log.outcome[i] === Outcome.Pending) this.log.end(i, Outcome.Failed);
    }
    return {
      policy: cfg.policy,
      log: this.log,
      series: this.series,
      nodes: this.regions.flatMap((r) => r.groups.flatMap((g) => g.everyNode())),
      groups: this.regions.flatMap((r) => r.groups),
      regions: this.regions,
      spotInterruptions: this.spotInterruptions,
      redispatched: this.redispatched,
      events: this.events,
      measuredFrom: cfg.warmupMs ?? 0,
      billedUntil: cfg.durationMs,
      peakServing: this.peakServing,
    };
  }

  /** Moves the clock; bills open when the warm-up ends and close at the end of the window. */
  private advance(at: number): void {
    const opens = this.cfg.warmupMs ?? 0;
    if (!this.opened && at >= opens) {
      this.snapshot(opens, (node) => {
        node.openedRunMs = node.runMs;
        node.openedEbsMs = node.ebsMs;
      });
      this.opened = true;
    }
    if (!this.billed && at >= this.cfg.durationMs) {
      this.snapshot(this.cfg.durationMs, (node) => {
        node.billedRunMs = node.runMs - node.openedRunMs;
        node.billedEbsMs = node.ebsMs - node.openedEbsMs;
      });
      this.billed = true;
    }
    this.now = at;
  }

  private opened = false;

  private snapshot(at: number, take: (node: SimNode) => void): void {
    for (const region of this.regions) {
      for (const group of region.groups) {
        for (const node of group.everyNode()) {
          node.enter(node.state, Math.max(node.since, at));
          take(node);
        }
      }
    }
  }

  /** Jobs in scheduled events (delayed enqueue, requeue, redispatch): not in any queue yet. */
  private inTransit = 0;

  private idleEverywhere(): boolean {
    if (this.inTransit > 0) return false;
    for (const region of this.regions) {
      if (region.queue.size > 0 || region.filling.size > 0) return false;
      for (const group of region.groups)
        for (const node of group.nodes) if (node.batch) return false;
    }
    return true;
  }

  private handle(kind: Kind, ref: unknown): void {
    switch (kind) {
      case "batch-done":
        return this.batchDone(ref as NodeEvent);
      case "fill-due": {
        const { node, token } = ref as NodeEvent;
        if (node.token === token && node.batch && !node.running) this.start(node);
        return;
      }
      case "booted":
        return this.booted(ref as SimNode, false);
      case "prepared":
        return this.prepared(ref as SimNode);
      case "stopped": {
        const node = ref as SimNode;
        if (node.state === "stopping") node.enter("warm", this.now);
        return;
      }
      case "heartbeat":
        return this.heartbeat(ref as SimRegion);
      case "sample":
        return this.sample();
      case "minute":
        return this.minute();
      case "evaluate":
        return this.evaluate();
      case "spot-notice":
        return this.spotNotice(ref as SimNode);
      case "spot-reclaim":
        return this.spotReclaim(ref as SimNode);
      case "region-down":
        return this.regionDown(ref as SimRegion);
      case "region-up":
        return this.regionUp(ref as SimRegion);
      case "enqueue": {
        this.inTransit--;
        const { job, region } = ref as { job: SimJob; region: SimRegion };
        if (region.down) this.dispatch(job);
        else this.enqueue(region, job);
        return;
      }
      case "redispatch":
        this.inTransit--;
        return this.redispatch(ref as SimJob);
      case "requeue": {
        const { jobs, region } = ref as { jobs: SimJob[]; region: SimRegion };
        this.inTransit -= jobs.length;
        for (const job of jobs) {
          if (region.down) this.dispatch(job);
          else this.enqueue(region, job);
        }
        return;
      }
    }
  }

  // ---- requests -------------------------------------------------------------------------------

  private arrive(arrival: Arrival): void {
    this.minuteArrivals++;
    const job = newSimJob(this.log.add(arrival.at), arrival);
    this.dispatch(job);
  }

  /** The edge's dispatch loop: candidates in the directory's order, failing over as it does. */
  private dispatch(job: SimJob): void {
    const { cfg, directory } = this;
    const plan = directory.plan({
      client: this.clients[job.metro]!,
      colo: null,
      lane: job.lane,
      model: this.modelRef,
      ...(job.exclude && { exclude: job.exclude }),
    });
    let elapsed = 0;
    for (const candidate of plan.candidates) {
      const region = this.byName.get(candidate.config.name)!;
      const rtt = this.rtt[job.metro]![region.idx]!;
      if (region.down) {
        elapsed += cfg.edge.dispatchTimeoutMs;
        noteAttempt(directory, region.name, job.lane, "unreachable");
        continue;
      }
      // No node ready (the load balancer answers 503) or the queue is at MAX_QUEUE_DEPTH (429).
      if (region.taking === 0 || region.queue.size >= cfg.policy.maxQueueDepth) {
        elapsed += rtt;
        noteAttempt(directory, region.name, job.lane, "busy", region.taking === 0 ? 503 : 429);
        continue;
      }
      noteAttempt(directory, region.name, job.lane, "accepted");
      job.rttMs = rtt;
      job.delayMs += elapsed;
      if (elapsed > 0) {
        this.inTransit++;
        this.heap.push(this.now + elapsed, "enqueue", { job, region });
      } else this.enqueue(region, job);
      return;
    }
    this.log.end(job.id, Outcome.Shed);
  }

  private enqueue(region: SimRegion, job: SimJob): void {
    job.region = region.idx;
    region.queue.push(job, this.now);
    const fillers = region.filling.get(job.shape);
    if (fillers && fillers.length > 0) {
      const node = fillers[0]!;
      node.batch!.push(region.queue.take(job.shape)!);
      if (node.batch!.length >= this.cfg.node.batching.maxBatch) this.start(node);
      return;
    }
    const idle = region.idle.values().next();
    if (!idle.done) this.next(idle.value, region);
  }

  private redispatch(job: SimJob): void {
    job.attempts++;
    this.redispatched++;
    if (job.attempts > this.cfg.edge.maxDispatchAttempts) {
      this.log.end(job.id, Outcome.Failed);
      return;
    }
    this.dispatch(job);
  }

  // ---- nodes: batches -------------------------------------------------------------------------

  private regionOf(node: SimNode): SimRegion {
    return this.regions[node.group.regionIdx]!;
  }

  /** An idle node takes the next batch (waiting for batch-mates as the scheduler does). */
  private next(node: SimNode, region: SimRegion = this.regionOf(node)): void {
    if (node.leaving) return this.leave(node);
    if (region.down || node.state !== "serving") return;
    const key = region.queue.nextKey();
    if (key < 0) {
      region.idle.add(node);
      return;
    }
    region.idle.delete(node);
    const max = this.cfg.node.batching.maxBatch;
    const batch: SimJob[] = [];
    while (batch.length < max) {
      const job = region.queue.take(key);
      if (!job) break;
      batch.push(job);
    }
    node.batch = batch;
    node.batchKey = key;
    const until = batchWaitsUntil(batch[0]!.enqueuedAt, this.cfg.node.batching);
    if (batch.length < max && until > this.now) {
      const fillers = region.filling.get(key) ?? [];
      fillers.push(node);
      region.filling.set(key, fillers);
      this.heap.push(until, "fill-due", { node, token: ++node.token });
      return;
    }
    this.start(node);
  }

  private unfill(node: SimNode, region: SimRegion): void {
    const fillers = region.filling.get(node.batchKey);
    if (!fillers) return;
    const at = fillers.indexOf(node);
    if (at >= 0) fillers.splice(at, 1);
    if (fillers.length === 0) region.filling.delete(node.batchKey);
  }

  private start(node: SimNode): void {
    const region = this.regionOf(node);
    this.unfill(node, region);
    const batch = node.batch!;
    node.running = true;
    node.batchStartedAt = this.now;
    const ms = this.service.batchMs(node.type, node.batchKey, batch.length);
    this.heap.push(this.now + ms, "batch-done", { node, token: ++node.token });
  }

  private batchDone({ node, token }: NodeEvent): void {
    if (node.token !== token || !node.running) return;
    const batch = node.batch!;
    const started = node.batchStartedAt;
    node.meter.record(batch.length, 0, this.now - started);
    node.busyMs += this.now - Math.max(started, this.minuteStart);
    node.images += batch.length;
    const output = this.cfg.profile.outputStageMs;
    for (const job of batch) {
      this.log.done(
        job.id,
        started - job.enqueuedAt,
        this.now + output + job.rttMs - job.arrivedAt,
      );
    }
    node.batch = null;
    node.running = false;
    this.next(node);
  }

  // ---- nodes: lifecycle -----------------------------------------------------------------------

  private hooks() {
    return {
      now: () => this.now,
      clock: () => this.now,
      boot: (node: SimNode, ms: number) => {
        node.leaving = null;
        this.heap.push(this.now + ms, "booted", node);
      },
      prepare: (node: SimNode, ms: number) => this.heap.push(this.now + ms, "prepared", node),
      retire: (node: SimNode, to: "pool" | "terminate") => this.retire(node, to),
      launchedSpot: (node: SimNode) => this.scheduleSpot(node),
      nextNodeId: () => this.nodeIds++,
    };
  }

  private booted(node: SimNode, initial: boolean): void {
    if (node.state !== "booting") return;
    const region = this.regionOf(node);
    node.enter("serving", this.now);
    // The fleet at the start of a run has been serving for a while (past its warm-up).
    node.servingSince = initial ? -Infinity : this.now;
    region.taking++;
    this.next(node, region);
  }

  private prepared(node: SimNode): void {
    if (node.state === "warming") node.enter("warm", this.now);
  }

  /** Scale-in or spot notice: the node takes no new batch, then stops into the pool or ends. */
  private retire(node: SimNode, to: "pool" | "terminate"): void {
    const region = this.regionOf(node);
    if (node.state === "booting") {
      node.token++;
      if (to === "pool") this.toPool(node);
      else node.group.terminate(node);
      return;
    }
    if (node.state !== "serving" || node.leaving) return;
    node.leaving = to;
    region.taking--;
    // Its draining heartbeat: the edge stops counting on it at once.
    this.directory.observeHeartbeat(heartbeatFor(this.statusInput(node, region, true)), this.now);
    if (node.batch && !node.running) this.start(node);
    else if (!node.batch) this.leave(node);
  }

  /** A leaving node whose batch is done. */
  private leave(node: SimNode): void {
    const region = this.regionOf(node);
    region.idle.delete(node);
    const to = node.leaving;
    node.leaving = null;
    if (to === "pool") this.toPool(node);
    else node.group.terminate(node);
    node.group.reconcile();
  }

  private toPool(node: SimNode): void {
    node.enter("stopping", this.now);
    this.heap.push(this.now + this.cfg.profile.launch.stopToPoolMs, "stopped", node);
  }

  private scheduleSpot(node: SimNode): void {
    const type = this.cfg.types.types[node.type]!;
    const perMs = (type.spotInterruptionsPerMonth * (this.cfg.spotRateFactor ?? 1)) / MONTH_MS;
    if (perMs <= 0) return;
    const at = this.now - Math.log(Math.max(1e-12, this.random())) / perMs;
    if (at < this.cfg.durationMs) this.heap.push(at, "spot-notice", node);
  }

  /** Two minutes' notice: drain now, a replacement launches at once (capacity rebalancing). */
  private spotNotice(node: SimNode): void {
    if (node.state === "terminated" || node.state === "warm") return;
    this.spotInterruptions++;
    if (node.state === "serving" && !node.leaving) this.retire(node, "terminate");
    else if (node.state === "booting") node.group.terminate(node);
    node.group.reconcile();
    this.heap.push(this.now + 120_000, "spot-reclaim", node);
  }

  /** Reclaimed: a batch still running is lost; the shared queue gives its jobs to another node. */
  private spotReclaim(node: SimNode): void {
    if (node.state === "terminated") return;
    const region = this.regionOf(node);
    const lost = node.batch ?? [];
    node.batch = null;
    node.running = false;
    node.token++;
    if (node.state === "serving" && !node.leaving) region.taking--;
    region.idle.delete(node);
    this.unfill(node, region);
    node.leaving = null;
    node.group.terminate(node);
    node.group.reconcile();
    if (lost.length > 0) {
      this.inTransit += lost.length;
      this.heap.push(this.now + this.cfg.node.queueLockMs, "requeue", { jobs: lost, region });
    }
  }

  // ---- regions --------------------------------------------------------------------------------

  private regionDown(region: SimRegion): void {
    region.down = true;
    const lost = region.queue.clear();
    for (const group of region.groups) {
      for (const node of group.nodes) {
        if (!node.batch) continue;
        lost.push(...node.batch);
        node.batch = null;
        node.running = false;
        node.token++;
      }
    }
    region.filling.clear();
    for (const group of region.groups)
      for (const node of group.nodes)
        if (node.state === "serving" && !node.leaving) region.idle.add(node);
    // The edge's lease sweep finds them once the region has been silent for the lease.
    for (const job of lost) {
      job.exclude = new Set([...(job.exclude ?? []), region.name]);
      this.inTransit++;
      this.heap.push(this.now + this.cfg.edge.leaseMs, "redispatch", job);
    }
  }

  private regionUp(region: SimRegion): void {
    region.down = false;
    for (const node of [...region.idle]) this.next(node, region);
  }

  private heartbeat(region: SimRegion): void {
    this.heap.push(this.now + this.cfg.node.heartbeatIntervalMs, "heartbeat", region);
    if (region.down) return;
    const active = this.activeJobs(region);
    for (const group of region.groups) {
      for (const node of group.nodes) {
        if (node.state !== "serving" || node.leaving) continue;
        this.directory.observeHeartbeat(
          heartbeatFor(this.statusInput(node, region, false, active)),
          this.now,
        );
      }
    }
  }

  private activeJobs(region: SimRegion): number {
    let n = 0;
    for (const group of region.groups) for (const node of group.nodes) n += node.batch?.length ?? 0;
    return n;
  }

  private statusInput(
    node: SimNode,
    region: SimRegion,
    draining: boolean,
    activeJobs = this.activeJobs(region),
  ) {
    return {
      activeJobs,
      region: region.name,
      nodeId: `${region.name}-${node.id}`,
      now: this.now,
      draining,
      queue: region.queue,
      inFlight: node.batch?.length ?? 0,
      activeNodes: region.taking,
      meter: node.meter,
      warmModels: this.warmModels,
      batching: this.cfg.node.batching,
    };
  }

  // ---- metrics and scaling --------------------------------------------------------------------

  private minuteStart = 0;

  /** The regions' publishers sample (one per region, on the shared queue). */
  private sample(): void {
    this.heap.push(this.now + this.cfg.node.metricsSampleMs, "sample");
    for (const region of this.regions) {
      if (region.down || region.taking === 0) continue;
      const inFlight = this.activeJobs(region);
      region.backlogSum += (region.queue.size + inFlight) / region.taking;
      region.queueSum += region.queue.size / region.taking;
      region.backlogSamples++;
      const oldest = region.queue.oldestEnqueuedAt();
      region.ageMax = Math.max(region.ageMax, oldest === null ? 0 : (this.now - oldest) / 1000);
    }
  }

  /** A minute ends: its datapoints are fixed, each node's CPU for it computed, series recorded. */
  private minute(): void {
    this.heap.push(this.now + MINUTE_MS, "minute");
    const cpu = this.cfg.profile.cpu;
    let serving = 0;
    let running = 0;
    let queued = 0;
    for (const region of this.regions) {
      const n = region.backlogSamples;
      region.lastBacklog = n > 0 ? region.backlogSum / n : null;
      region.lastQueue = n > 0 ? region.queueSum / n : null;
      region.lastAge = region.ageMax >= 0 ? region.ageMax : null;
      region.backlogSum = region.queueSum = region.backlogSamples = 0;
      region.ageMax = -1;
      queued += region.queue.size;
      let regionServing = 0;
      for (const group of region.groups) {
        for (const node of group.nodes) {
          if (node.running)
            node.busyMs += this.now - Math.max(node.batchStartedAt, this.minuteStart);
          const vcpus = this.cfg.types.types[node.type]!.vcpus;
          const busy = Math.min(1, node.busyMs / MINUTE_MS);
          node.cpu = Math.min(
            1,
            cpu.idleShare +
              (busy * cpu.executorCores) / vcpus +
              (node.images * cpu.cpuSecondsPerImage) / (60 * vcpus),
          );
          node.busyMs = 0;
          node.images = 0;
          if (node.state === "serving") regionServing++;
          if (node.state !== "warm") running++;
        }
      }
      serving += regionServing;
      if (this.now > (this.cfg.warmupMs ?? 0)) {
        this.peakServing[region.idx] = Math.max(this.peakServing[region.idx]!, regionServing);
      }
    }
    this.minuteStart = this.now;
    if (this.now > (this.cfg.warmupMs ?? 0) && this.now <= this.cfg.durationMs) {
      this.series.arrivals.push(this.minuteArrivals);
      this.series.serving.push(serving);
      this.series.running.push(running);
      this.series.queued.push(queued);
    }
    this.minuteArrivals = 0;
  }

  private evaluate(): void {
    this.heap.push(this.now + MINUTE_MS, "evaluate");
    const warmupMs = this.cfg.policy.instanceWarmupMs;
    for (const region of this.regions) {
      for (const group of region.groups) {
        if (group.spec.fixedSizes !== undefined) {
          group.reconcile();
          continue;
        }
        let serving = 0;
        let warming = 0;
        let cpuSum = 0;
        let cpuN = 0;
        for (const node of group.nodes) {
          if (node.leaving) continue;
          if (node.state === "booting") warming++;
          if (node.state !== "serving") continue;
          serving++;
          if (this.now - node.servingSince < warmupMs) warming++;
          else {
            cpuSum += node.cpu;
            cpuN++;
          }
        }
        const tracked = group.spec.targetTracking?.metric;
        const metric = region.down
          ? null
          : tracked === "cpu"
            ? cpuN > 0
              ? (cpuSum / cpuN) * 100
              : null
            : tracked === "queue"
              ? region.lastQueue
              : region.lastBacklog;
        const desired = group.scaler.decide(
          { metric, oldestAgeS: region.down ? null : region.lastAge },
          {
            minSize: group.spec.minSize,
            maxSize: group.spec.maxSize,
            desired: group.desired,
            serving,
            warming,
          },
        );
        group.desired = desired;
        group.reconcile();
      }
    }
  }
}
