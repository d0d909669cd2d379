import { deriveRegionKeys } from "../../contracts/region-keys.ts";
import { startEdge } from "../../edge/entry/node.ts";
import { SecretsKeyText } from "../../edge/webhooks/secret-box.ts";
import type { EdgeLauncher } from "./run-local-stack.ts";
import { stackLog } from "./welcome.ts";

/** `npm start`'s edge: the Node entry in the stack's own process, on the embedded database. */
export const nodeEdge: EdgeLauncher = async ({ config, port, url, regions, secrets, database }) => {
  const edge = await startEdge({
    host: config.edgeHost,
    port,
    db: database.db,
    regions: regions.map((r) => r.config),
    assetsDir: `${config.dataDir}/edge-cache`,
    secrets: {
      regionKeys: await deriveRegionKeys(
        secrets.regionSigning,
        regions.map((r) => r.config.name),
      ),
      assetUrl: secrets.assetUrl,
      apiKeyPepper: secrets.apiKeyPepper,
      webhookSecretsKeys: { current: SecretsKeyText.parse(secrets.webhookSecretsKey) },
    },
    publicUrl: url,
    environment: "development",
    log: stackLog(config.logLevel),
  });
  return { runtime: "Node", url: edge.url, adminDb: database.db, close: edge.close };
};
