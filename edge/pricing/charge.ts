import type { GenerationRow } from "../../db/schema/generations.ts";
import { jobCostMicrousd } from "../generations/pricing.ts";
import type { PriceBook } from "./price-book.ts";

/**
 * What a finished job is charged: its measured GPU time and output size at the price of its model
 * version, lane and the region that ran it, times the plan multiplier it was accepted with. Test
 * mode is never charged.
 */
export async function chargeFor(
  row: Pick<GenerationRow, "mode" | "modelVersionId" | "params" | "priceMultiplier">,
  run: { region: string; gpuMs: number; width: number; height: number },
  prices: PriceBook,
): Promise<number> {
  if (row.mode === "test") return 0;
  const price = await prices.priceOf({
    modelVersionId: row.modelVersionId,
    lane: row.params.priority,
    region: run.region,
  });
  return jobCostMicrousd(price, run, row.priceMultiplier);
}

/**
 * The estimate of a generation routed to `region` (its price there), as reserved at submit: the
 * plan multiplier it was accepted with; 0 in test mode.
 */
export async function estimateFor(
  row: Pick<GenerationRow, "mode" | "modelVersionId" | "params" | "priceMultiplier">,
  region: string,
  gpuMsPerMegapixel: number | null,
  prices: PriceBook,
): Promise<number> {
  if (row.mode === "test") return 0;
  return prices.estimate(
    {
      modelVersionId: row.modelVersionId,
      lane: row.params.priority,
      region,
      gpuMsPerMegapixel,
      width: row.params.width,
      height: row.params.height,
    },
    row.priceMultiplier,
  );
}
