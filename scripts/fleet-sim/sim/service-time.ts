import type { Shape } from "../workload/arrivals.ts";
import type { InstanceTypes, ServiceProfile } from "../inputs/profiles.ts";

// How long one batch occupies a node's GPU: the profile's batch time at the reference size,
// interpolated between the measured batch sizes (and extrapolated at the per-image rate of the
// largest), scaled by pixels and by the instance type's speed. Precomputed per type, shape and
// batch size: the simulator asks millions of times.

export class ServiceTimes {
  private readonly table = new Map<string, Float64Array[]>();
  private readonly points: Array<[number, number]>;
  private readonly refPixels: number;
  readonly maxBatch: number;

  constructor(
    profile: ServiceProfile,
    types: InstanceTypes,
    shapes: readonly Shape[],
    maxBatch: number,
  ) {
    this.maxBatch = maxBatch;
    this.points = Object.entries(profile.batchMs)
      .map(([b, ms]) => [Number(b), ms] as [number, number])
      .sort((a, b) => a[0] - b[0]);
    this.refPixels = profile.reference.width * profile.reference.height;
    for (const [name, type] of Object.entries(types.types)) {
      this.table.set(
        name,
        shapes.map((shape) => {
          const row = new Float64Array(maxBatch + 1);
          const scale = (shape.width * shape.height) / this.refPixels / type.speed;
          for (let b = 1; b <= maxBatch; b++) row[b] = this.referenceMs(b) * scale;
          return row;
        }),
      );
    }
  }

  /** Ms of a batch of `size` jobs of `shape` on `type`. */
  batchMs(type: string, shape: number, size: number): number {
    const rows = this.table.get(type);
    if (!rows) throw new Error(`unknown instance type ${type}`);
    return rows[shape]![Math.min(size, this.maxBatch)]!;
  }

  /** Reference-size batch time for `b` images. */
  referenceMs(b: number): number {
    const pts = this.points;
    if (b <= pts[0]![0]) return (pts[0]![1] * b) / pts[0]![0];
    for (let i = 1; i < pts.length; i++) {
      const [b1, ms1] = pts[i]!;
      if (b <= b1) {
        const [b0, ms0] = pts[i - 1]!;
        return ms0 + ((ms1 - ms0) * (b - b0)) / (b1 - b0);
      }
    }
    const [bn, msn] = pts[pts.length - 1]!;
    return (msn * b) / bn;
  }
}
