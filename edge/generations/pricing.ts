// The one place GPU time becomes money. Amounts are integer micro-USD, like the database columns.

/** Used until a model version has a measured GPU time (model_versions.gpu_ms_per_megapixel). */
export const DEFAULT_GPU_MS_PER_MEGAPIXEL = 1_000;
/** Used for a region the database has no price for (regions.gpu_price_per_hour_microusd). */
export const DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD = 2_500_000;

const MS_PER_HOUR = 3_600_000;

export const megapixels = (width: number, height: number) => (width * height) / 1_000_000;

/** GPU time a job is expected to take, from the model version's measured ms per megapixel. */
export function estimateGpuMs(
  gpuMsPerMegapixel: number | null,
  width: number,
  height: number,
): number {
  return (gpuMsPerMegapixel ?? DEFAULT_GPU_MS_PER_MEGAPIXEL) * megapixels(width, height);
}

/**
 * Price of `gpuMs` of GPU time, times the account plan's `priceMultiplier`; rounded up so no GPU
 * work is ever priced at zero.
 */
export function gpuCostMicrousd(
  gpuMs: number,
  gpuPricePerHourMicrousd: number | null,
  priceMultiplier = 1,
): number {
  if (gpuMs <= 0) return 0;
  const price = gpuPricePerHourMicrousd ?? DEFAULT_GPU_PRICE_PER_HOUR_MICROUSD;
  return Math.ceil((gpuMs * price * priceMultiplier) / MS_PER_HOUR);
}

export const microusdToUsd = (microusd: number) => microusd / 1_000_000;

/** One cell of the price table, resolved (edge/pricing/price-book.ts). */
export interface UnitPrice {
  /** Price of an hour of GPU time (µUSD), before `multiplier`. */
  gpuHourMicrousd: number;
  /** Price per output megapixel (µUSD), before `multiplier`. */
  megapixelMicrousd: number;
  /** The cell's scale (e.g. the lane's), applied to both terms. */
  multiplier: number;
}

/**
 * What a job costs: its GPU time and output size at the cell's prices, times the plan's
 * multiplier; rounded up, so no work is ever priced at zero. The one formula of estimates and
 * charges (with the region's list price and no size term it equals gpuCostMicrousd).
 */
export function jobCostMicrousd(
  price: UnitPrice,
  job: { gpuMs: number; width: number; height: number },
  planMultiplier = 1,
): number {
  const scale = price.multiplier * planMultiplier;
  const gpu = job.gpuMs > 0 ? (job.gpuMs * price.gpuHourMicrousd * scale) / MS_PER_HOUR : 0;
  const size = megapixels(job.width, job.height) * price.megapixelMicrousd * scale;
  const total = gpu + size;
  return total > 0 ? Math.ceil(total) : 0;
}
