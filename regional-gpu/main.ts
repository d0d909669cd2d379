import { ConfigError, configFromEnv } from "./config.ts";
import { createLogger } from "./log.ts";
import { startRegion } from "./region.ts";

// Entry of a regional node: `node regional-gpu/main.ts`, configured by environment variables
// (regional-gpu/config.ts). SIGTERM/SIGINT drain the node and exit 0; a second signal exits at once;
// so does the loss of the supervisor's IPC channel when one was given.

export { startRegion, type RegionOverrides, type RunningRegion } from "./region.ts";
export type { RegionNodeConfigInput } from "./config.ts";

async function main(): Promise<void> {
  const log = createLogger({ bindings: { service: "regional-gpu" } });
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled rejection", { err: reason });
    process.exit(1);
  });

  let config;
  try {
    config = configFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`regional-gpu: ${err.message}\n`);
    process.exit(1);
  }

  let region;
  try {
    region = await startRegion(config);
  } catch (err) {
    log.error("region node failed to start", { region: config.regionName, err });
    process.exit(1);
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    log.info("signal received; draining", { region: config.regionName, signal });
    // The drain bounds each of its steps; this is the backstop should anything still hang.
    setTimeout(() => {
      log.error("drain deadline passed; exiting", { region: config.regionName });
      process.exit(1);
    }, config.drainTimeoutMs + 1_000).unref();
    region.close().then(
      (report) => {
        if (!report.executorBusy) process.exit(0);
        // A native session.run outlasted the drain; it cannot be interrupted, and a normal exit
        // would tear its thread down mid-run and abort. Its jobs were already reported failed.
        log.warn("exiting with a session.run still executing", { region: config.regionName });
        process.kill(process.pid, "SIGKILL");
      },
      (err: unknown) => {
        log.error("drain failed", { region: config.regionName, err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // Started by a supervisor with an IPC channel (the local stack): when it is gone, however it
  // died (even SIGKILL), the channel closes and the node drains as on SIGTERM instead of running on
  // as an orphan holding its port.
  if (process.connected) {
    process.once("disconnect", () => {
      if (!signalled) onSignal("SIGTERM");
    });
    // The channel must not keep the node alive by itself.
    process.channel?.unref();
  }
}

if (import.meta.main) await main();
