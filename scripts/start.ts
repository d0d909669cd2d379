// `npm start`: the embedded default on one machine — PGlite, three regional nodes, the edge.
import { mkdir } from "node:fs/promises";
import { startEdge } from "../edge/entry/node.ts";
import { ensureReferenceModel } from "../regional-gpu/model-build/build-reference-model.ts";
import { startAdminServer } from "./local-stack/admin-server.ts";
import { bootstrapDatabase } from "./local-stack/bootstrap-database.ts";
import { ensureDevAccount } from "./local-stack/dev-account.ts";
import { portsFrom } from "./local-stack/free-port.ts";
import { spawnRegion, stopRegion, waitUntilReady } from "./local-stack/region-processes.ts";
import { loadOrCreateSecrets } from "./local-stack/secrets.ts";
import { localRegions, stackConfigFromEnv } from "./local-stack/stack-config.ts";
import { removeStackFile, writeStackFile } from "./local-stack/stack-file.ts";
import { printWelcome, stackLog } from "./local-stack/welcome.ts";

const config = stackConfigFromEnv();
await mkdir(config.dataDir, { recursive: true });
const secrets = await loadOrCreateSecrets(config.dataDir);
await ensureReferenceModel(config.modelDir, (line) => console.log(`[model] ${line}`));

const [edgePort, ...regionPorts] = [
  ...(await portsFrom(config.edgePort, 1)),
  ...(await portsFrom(config.regionBasePort, 3)),
] as [number, ...number[]];
const regions = localRegions(config, regionPorts);
const edgeUrl = `http://${config.edgeHost}:${edgePort}`;

const database = await bootstrapDatabase({ ...config, regions });
const dev = await ensureDevAccount(database.db, config.dataDir, secrets.apiKeyPepper);

const regionProcesses = regions.map((r) =>
  spawnRegion(r, config, { edgeUrl, signingSecret: secrets.regionSigning }),
);
const edge = await startEdge({
  host: config.edgeHost,
  port: edgePort,
  db: database.db,
  regions: regions.map((r) => r.config),
  assetsDir: `${config.dataDir}/edge-cache`,
  secrets,
  environment: "development",
  log: stackLog(config.logLevel),
});
const admin = await startAdminServer(database.db, secrets.apiKeyPepper);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack...`);
  await Promise.allSettled(regionProcesses.map((r) => stopRegion(r)));
  await Promise.allSettled([edge.close(), admin.close()]);
  await database.close();
  await removeStackFile(config.dataDir);
  console.log("stopped.");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  await Promise.all(regionProcesses.map((p, i) => waitUntilReady(p, regions[i]!.config.endpoint)));
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  await shutdown("startup failure");
}
await writeStackFile(config.dataDir, {
  pid: process.pid,
  edge_url: edge.url,
  admin_url: admin.url,
  admin_token: admin.token,
  regions: regions.map((r, i) => ({
    name: r.config.name,
    endpoint: r.config.endpoint,
    pid: regionProcesses[i]!.child.pid,
  })),
});
printWelcome({ edgeUrl: edge.url, apiKey: dev.key, accountId: dev.account_id, regions });
