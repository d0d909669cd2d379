import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real redis-server (the Debian package) for tests: its own process on a free loopback port, data in
// a temp folder, nothing persisted. Tests that need it skip, saying why, only when it is not installed.

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? "redis-server";

/** Whether `redis-server` can be run on this machine. */
export function redisServerInstalled(): boolean {
  const probe = spawnSync(BINARY, ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

export const REDIS_MISSING =
  "redis-server is not installed (Debian: apt-get install -y redis-server, or run scripts/ci/start-services.sh); skipping";

/** A port the OS says is free now (redis-server cannot pick one itself: --port 0 disables TCP). */
async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

function waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    let output = "";
    const timer = setTimeout(
      () => finish(new Error(`redis-server not ready: ${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/i.test(output)) finish();
    };
    const onExit = (code: number | null) =>
      finish(new Error(`redis-server exited ${code}: ${output}`));
    const finish = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (err) fail(err);
      else done();
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

async function launch(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    BINARY,
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
      ...["--save", "", "--appendonly", "no", "--logfile", ""],
      // BullMQ needs keys never to be evicted.
      ...["--maxmemory-policy", "noeviction"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await waitUntilReady(child, 10_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, port };
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "redis-test-"));
  let started: { child: ChildProcess; port: number } | undefined;
  let lastError: unknown;
  // Another process may take the probed port before redis-server binds it: try a few ports.
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    try {
      started = await launch(dir);
    } catch (err) {
      lastError = err;
    }
  }
  if (!started) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { child, port } = started;
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null) done();
    else child.once("exit", () => done());
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
