import { startEdge } from "../../edge/entry/node.ts";
import type { EdgeLauncher } from "./run-local-stack.ts";
import { stackLog } from "./welcome.ts";

/** `npm start`'s edge: the Node entry in the stack's own process, on the embedded database. */
export const nodeEdge: EdgeLauncher = async ({ config, port, regions, secrets, database }) => {
  const edge = await startEdge({
    host: config.edgeHost,
    port,
    db: database.db,
    regions: regions.map((r) => r.config),
    assetsDir: `${config.dataDir}/edge-cache`,
    secrets,
    environment: "development",
    log: stackLog(config.logLevel),
  });
  return { runtime: "Node", url: edge.url, adminDb: database.db, close: edge.close };
};
