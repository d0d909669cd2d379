import { z } from "zod";
import { RegionJob } from "../../contracts/region-protocol.ts";
import type { QueueEntry } from "./queue-backend.ts";

// A QueueEntry as the shared queue stores it in Redis: read back through this schema, since another
// node (perhaps of another version) wrote it.

export const QueueEntryData: z.ZodType<QueueEntry> = z.object({
  job: RegionJob,
  batchKey: z.string().min(1),
  enqueuedAt: z.number(),
});
