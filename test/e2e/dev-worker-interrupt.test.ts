import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { launchLocalStack, removeDataDir } from "./local-stack.ts";
import { descendantsOf, stillRunning, type ProcessInfo } from "./process-tree.ts";

// Ctrl-C while `npm run dev:worker` is still starting (wrangler's workerd is up, the Worker not yet
// served or the regions not yet ready): everything it had started stops, nothing is left running.
// The walking skeleton's last test covers Ctrl-C once the stack is up.

let stack: Awaited<ReturnType<typeof launchLocalStack>> | undefined;

afterAll(async () => {
  if (!stack) return;
  await stack.stop();
  await removeDataDir(stack.dataDir);
}, 60_000);

it("stops wrangler dev, workerd and the regions when interrupted during start-up", async () => {
  stack = await launchLocalStack("worker");
  const pid = stack.child.pid!;
  let running: ProcessInfo[] = [];
  await expect
    .poll(
      () => {
        running = descendantsOf(pid);
        return running.some((p) => /workerd serve/.test(p.command));
      },
      { timeout: 120_000, interval: 100 },
    )
    .toBe(true);
  expect(stack.output()).not.toContain("local stack is up");
  expect(await stack.stop()).toBe(0);
  expect(stack.output()).toMatch(/SIGINT: stopping the local stack[\s\S]*stopped\.\n?$/);
  expect(existsSync(join(stack.dataDir, "stack.json"))).toBe(false);
  await expect.poll(() => stillRunning(running), { timeout: 5_000 }).toEqual([]);
}, 180_000);
