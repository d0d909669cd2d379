import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

// `.data/stack.json`: how to reach a running local stack (mode 600; removed on shutdown).

export const StackFile = z.object({
  pid: z.number().int(),
  edge_url: z.string(),
  admin_url: z.string(),
  admin_token: z.string(),
  /** Each region's process id: `kill -9` one to see its jobs redispatched (docs/operations.md). */
  regions: z.array(
    z.object({ name: z.string(), endpoint: z.string(), pid: z.number().int().optional() }),
  ),
});
export type StackFile = z.infer<typeof StackFile>;

const pathOf = (dataDir: string) => join(dataDir, "stack.json");

export const writeStackFile = (dataDir: string, stack: StackFile) =>
  writeFile(pathOf(dataDir), JSON.stringify(stack, null, 2), { mode: 0o600 });

export const removeStackFile = (dataDir: string) => rm(pathOf(dataDir), { force: true });

/** The running stack's file, or null when none is running (a stale file from a crash is ignored). */
export async function readRunningStack(dataDir: string): Promise<StackFile | null> {
  let stack: StackFile;
  try {
    stack = StackFile.parse(JSON.parse(await readFile(pathOf(dataDir), "utf8")));
  } catch {
    return null;
  }
  try {
    process.kill(stack.pid, 0);
    return stack;
  } catch {
    return null;
  }
}
