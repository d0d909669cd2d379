import { deriveRegionKeys, keyText } from "../../contracts/region-keys.ts";
import { mkdir } from "node:fs/promises";
import type { Database, DatabaseHandle } from "../../db/client/index.ts";
import { ensureReferenceModels } from "../../regional-gpu/model-build/build-reference-model.ts";
import { startAdminServer, type AdminServer } from "./admin-server.ts";
import { bootstrapDatabase } from "./bootstrap-database.ts";
import { ensureDevAccount } from "./dev-account.ts";
import { portsFrom } from "./free-port.ts";
import { spawnRegion, stopRegion, waitUntilReady, type RegionProcess } from "./region-processes.ts";
import { loadOrCreateSecrets, type LocalSecrets } from "./secrets.ts";
import {
  localRegions,
  stackConfigFromEnv,
  type LocalRegion,
  type StackConfig,
} from "./stack-config.ts";
import { readRunningStack, removeStackFile, writeStackFile } from "./stack-file.ts";
import { printWelcome } from "./welcome.ts";

// The local stack's one start-up and shutdown, whatever serves the edge: `npm start` (the Node
// edge in this process) and `npm run dev:worker` (the Worker under `wrangler dev`) differ only in
// the EdgeLauncher they pass. Both get the same PGlite folder, migrations, regions, development
// key, admin control port and welcome.

/** What an edge launcher is given. */
export interface LocalEdgeContext {
  config: StackConfig;
  /** The port the edge must listen on (the regions were told `url` before it started). */
  port: number;
  url: string;
  regions: LocalRegion[];
  secrets: LocalSecrets;
  /** The migrated embedded database; the stack closes it after the edge. */
  database: DatabaseHandle;
  /** Aborted when the stack stops during start-up: stop what was started, then reject. */
  stopping: AbortSignal;
}

export interface LocalEdge {
  /** What serves the edge, for the welcome ("Node", "wrangler dev (workerd)"). */
  runtime: string;
  url: string;
  /** The database the admin control port uses while this edge runs. */
  adminDb: Database;
  /** Settles with a reason if the edge stops on its own; the stack then stops too. */
  exited?: Promise<string>;
  close(): Promise<void>;
}

export type EdgeLauncher = (ctx: LocalEdgeContext) => Promise<LocalEdge>;

/** Boots the local stack with `launchEdge` serving the edge; Ctrl-C (or SIGTERM) stops it all. */
export async function runLocalStack(launchEdge: EdgeLauncher): Promise<void> {
  const config = stackConfigFromEnv();
  await mkdir(config.dataDir, { recursive: true });
  const running = await readRunningStack(config.dataDir);
  if (running) {
    console.error(
      `error: a local stack already runs on ${config.dataDir} (pid ${running.pid}, edge ${running.edge_url}); stop it first (Ctrl-C), or set DATA_DIR to another folder`,
    );
    process.exit(1);
  }
  const secrets = await loadOrCreateSecrets(config.dataDir);
  await ensureReferenceModels(config.modelDir, (line) => console.log(`[model] ${line}`));

  const [edgePort, ...regionPorts] = [
    ...(await portsFrom(config.edgePort, 1)),
    ...(await portsFrom(config.regionBasePort, 3)),
  ] as [number, ...number[]];
  const regions = localRegions(config, regionPorts);
  const edgeUrl = `http://${config.edgeHost}:${edgePort}`;

  const database = await bootstrapDatabase({ ...config, regions });
  const dev = await ensureDevAccount(database.db, config.dataDir, secrets.apiKeyPepper);

  const stopping = new AbortController();
  const started: {
    regions: RegionProcess[];
    edge?: Promise<LocalEdge>;
    admin?: AdminServer;
  } = { regions: [] };
  const shutdown = stopOnce(async () => {
    stopping.abort();
    // Regions first: while they drain, the edge still takes their last events.
    await Promise.allSettled(started.regions.map((r) => stopRegion(r)));
    const edge = await started.edge?.catch(() => undefined);
    await Promise.allSettled([edge?.close(), started.admin?.close()]);
    await database.close();
    await removeStackFile(config.dataDir);
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void shutdown(`\n${signal}: stopping the local stack...`, 0));
  }

  let edge: LocalEdge;
  let admin: AdminServer;
  try {
    // One key per region, derived from the stack's secret (contracts/region-keys.ts): each region
    // process is given its own only; the edge derives all of them the same way.
    const regionKeys = await deriveRegionKeys(
      secrets.regionSigning,
      regions.map((r) => r.config.name),
    );
    started.regions = regions.map((r) =>
      spawnRegion(r, config, {
        edgeUrl,
        signingKey: keyText(regionKeys[r.config.name]!.current),
      }),
    );
    started.edge = launchEdge({
      config,
      port: edgePort,
      url: edgeUrl,
      regions,
      secrets,
      database,
      stopping: stopping.signal,
    });
    edge = await started.edge;
    void edge.exited?.then((why) => shutdown(`error: ${why}; stopping the local stack...`, 1));
    admin = started.admin = await startAdminServer(edge.adminDb, secrets.apiKeyPepper);
    await Promise.all(
      started.regions.map((p, i) => waitUntilReady(p, regions[i]!.config.endpoint)),
    );
  } catch (error) {
    await shutdown(`error: ${(error as Error).message}`, 1);
    return;
  }
  await writeStackFile(config.dataDir, {
    pid: process.pid,
    edge_url: edge.url,
    admin_url: admin.url,
    admin_token: admin.token,
    regions: regions.map((r, i) => ({
      name: r.config.name,
      endpoint: r.config.endpoint,
      pid: started.regions[i]!.child.pid,
    })),
  });
  printWelcome({
    edgeUrl: edge.url,
    runtime: edge.runtime,
    apiKey: dev.key,
    accountId: dev.account_id,
    regions,
  });
}

/** `stop` runs once, whoever asks first; the process then exits with the first caller's code. */
function stopOnce(stop: () => Promise<void>) {
  let stopping: Promise<never> | undefined;
  return (message: string, code: number): Promise<never> =>
    (stopping ??= (async () => {
      (code === 0 ? console.log : console.error)(message);
      try {
        await stop();
        console.log("stopped.");
      } catch (error) {
        console.error(`error while stopping: ${(error as Error).message}`);
        code ||= 1;
      }
      process.exit(code);
    })());
}
