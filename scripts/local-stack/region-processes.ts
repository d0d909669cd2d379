import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LocalRegion, StackConfig } from "./stack-config.ts";

// The local regions run as separate Node processes, as they would on separate GPU hosts.

const REGION_MAIN = fileURLToPath(new URL("../../regional-gpu/main.ts", import.meta.url));

export interface RegionProcess {
  name: string;
  child: ChildProcess;
}

export function spawnRegion(
  region: LocalRegion,
  config: StackConfig,
  shared: { edgeUrl: string; signingKey: string },
): RegionProcess {
  const child = spawn(process.execPath, [REGION_MAIN], {
    env: {
      ...process.env,
      REGION_NAME: region.config.name,
      HOST: "127.0.0.1",
      PORT: String(region.port),
      // Metrics and status on any free port: three nodes share this machine.
      OPS_PORT: "0",
      REGION_SIGNING_KEY: shared.signingKey,
      EDGE_URL: shared.edgeUrl,
      MODEL_DIR: config.modelDir,
      OBJECT_STORE: `file://${config.dataDir}/regions/${region.config.name}/objects`,
      SIMULATED_RTT_MS: String(region.config.rtt_ms ?? 0),
      ORT_EP: config.executionProvider,
      LOG_LEVEL: config.logLevel,
    },
    // The IPC channel is the region's tie to this process: if the supervisor dies, it drains.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // Its own process group: a terminal's Ctrl-C reaches the supervisor only, which stops each
    // region with one SIGTERM (the drain). In the terminal's group a region got the SIGINT and then
    // the supervisor's SIGTERM, took the second signal for "exit at once" and aborted mid-run
    // (terminate called after throwing Napi::Error), so its jobs waited for the heartbeat TTL.
    detached: true,
  });
  return { name: region.config.name, child };
}

/** Resolves once the region answers /readyz; rejects if it exits first or takes too long. */
export async function waitUntilReady(
  region: RegionProcess,
  endpoint: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | null = null;
  region.child.once("exit", (code, signal) => (exited = `exited (${signal ?? code})`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`region ${region.name} ${exited} before it was ready`);
    try {
      const res = await fetch(`${endpoint}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`region ${region.name} was not ready within ${timeoutMs / 1000} s`);
}

/** SIGTERM (the region drains), then SIGKILL after the deadline. */
export function stopRegion(region: RegionProcess, deadlineMs = 35_000): Promise<void> {
  const { child } = region;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}
