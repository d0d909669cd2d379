import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deriveRegionKeys, keyText } from "../../contracts/region-keys.ts";
import type { DatabaseHandle } from "../../db/client/index.ts";
import {
  ensureReferenceModel,
  DEFAULT_MODELS_DIR,
} from "../../regional-gpu/model-build/build-reference-model.ts";
import { bootstrapDatabase } from "../../scripts/local-stack/bootstrap-database.ts";
import { portsFrom } from "../../scripts/local-stack/free-port.ts";
import { startEdge } from "../../edge/entry/node.ts";
import { SecretsKeyText } from "../../edge/webhooks/secret-box.ts";
import { stackLog } from "../../scripts/local-stack/welcome.ts";
import {
  spawnRegion,
  stopRegion,
  waitUntilReady,
  type RegionProcess,
} from "../../scripts/local-stack/region-processes.ts";
import { loadOrCreateSecrets } from "../../scripts/local-stack/secrets.ts";
import {
  localRegions,
  stackConfigFromEnv,
  type StackConfig,
} from "../../scripts/local-stack/stack-config.ts";

// The local stack the simulation drives: the same pieces as `npm start` (PGlite, the Node edge in
// this process, region processes running the model through ONNX Runtime), in a fresh folder with
// its own copy of the model store, so trained versions never land in .data/models. The simulated
// users reach it only through its HTTP API; the operator side (curate, train, rollouts) uses the
// database handle, as the admin commands do.

export interface SimStack {
  edgeUrl: string;
  database: DatabaseHandle;
  config: StackConfig;
  pepper: string;
  /** Region object-store folders (where outputs' bytes are). */
  objectDirs: string[];
  close(): Promise<void>;
}

export async function startSimStack(options: {
  regions: number;
  log: (l: string) => void;
}): Promise<SimStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "genart-flywheel-"));
  const { manifestPath } = await ensureReferenceModel(DEFAULT_MODELS_DIR, options.log);
  const modelDir = join(dataDir, "models");
  const built = join(manifestPath, "..");
  const versionDir = join(modelDir, "cppn-glove", built.split("/").at(-1)!);
  await mkdir(versionDir, { recursive: true });
  await cp(built, versionDir, { recursive: true });

  const config = stackConfigFromEnv({
    DATA_DIR: dataDir,
    MODEL_DIR: modelDir,
    EDGE_PORT: "0",
    REGION_BASE_PORT: "0",
    ORT_EP: "cpu",
    LOG_LEVEL: "error",
  });
  const secrets = await loadOrCreateSecrets(dataDir);
  const [edgePort, ...regionPorts] = await portsFrom(0, 1 + 3);
  const regions = localRegions(config, regionPorts).slice(0, options.regions);
  const edgeUrl = `http://${config.edgeHost}:${edgePort}`;
  const database = await bootstrapDatabase({ dataDir, modelDir, regions });
  const keys = await deriveRegionKeys(
    secrets.regionSigning,
    regions.map((r) => r.config.name),
  );
  const processes: RegionProcess[] = regions.map((r) =>
    spawnRegion(r, config, { edgeUrl, signingKey: keyText(keys[r.config.name]!.current) }),
  );
  let edge: { url: string; close(): Promise<void> } | undefined;
  const close = async () => {
    await Promise.allSettled(processes.map((p) => stopRegion(p, 10_000)));
    await edge?.close();
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // npm start's Node edge, except that the simulation's operator side runs the rollout
    // controller itself (with its policy and fraud-control setting), not the edge's timer.
    const started = await startEdge({
      host: config.edgeHost,
      port: edgePort!,
      db: database.db,
      regions: regions.map((r) => r.config),
      assetsDir: `${dataDir}/edge-cache`,
      secrets: {
        regionKeys: keys,
        assetUrl: secrets.assetUrl,
        apiKeyPepper: secrets.apiKeyPepper,
        webhookSecretsKeys: { current: SecretsKeyText.parse(secrets.webhookSecretsKey) },
      },
      publicUrl: edgeUrl,
      environment: "development",
      log: stackLog(config.logLevel),
      // The operator loop drives the controller itself. A simulated round squeezes a day of use into
      // seconds, so the per-minute vote limit would drop honest votes depending on how fast this
      // machine runs (and the outcome with them); the fraud weights still see the spammers' bursts.
      tuning: { rolloutIntervalMs: 0, votesPerMinute: 1_000_000 },
    });
    edge = { url: started.url, close: started.close };
    await Promise.all(processes.map((p, i) => waitUntilReady(p, regions[i]!.config.endpoint)));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    edgeUrl: edge.url,
    database,
    config,
    pepper: secrets.apiKeyPepper,
    objectDirs: regions.map((r) => join(dataDir, "regions", r.config.name, "objects")),
    close,
  };
}
