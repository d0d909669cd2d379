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
