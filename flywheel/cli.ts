// `npm run flywheel -- <command>`: the learning loop's operator commands (docs/flywheel.md).
//
//   curate   [--model cppn-glove] [--out .data/datasets] [--objects <dir>]... [--no-fraud-controls]
//   train    --dataset <dir> [--parent <version>] [--models .data/models]
//   simulate [--quick] [--no-fraud-controls | --compare] [--seed N] [--out docs]
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const USAGE = `usage: npm run flywheel -- <command> [options]

  curate    score outputs by engagement and write a versioned preference dataset
            [--model cppn-glove] [--out .data/datasets] [--objects <dir> ...] [--public-url <url>]
            [--no-fraud-controls]
  train     fit the prompt head on a dataset; writes and registers a candidate version
            --dataset <dir> [--parent <version>] [--models .data/models]
  simulate  a simulated population uses the local stack; the loop curates, trains, canaries,
            promotes and rolls back by itself; prints and plots the like rate per round
            [--quick] [--compare] [--seed N] [--out docs]
            (a run is a pure function of its seed: the same seed gives the same rounds)

Database: DATABASE_URL when set, else the local stack's PGlite folder (DATA_DIR, default .data;
stop \`npm start\` first, or use \`npm run admin -- models\` while it runs).`;

async function withDatabase<T>(
  run: (db: import("../db/client/index.ts").Database) => Promise<T>,
): Promise<T> {
  const { createDatabase } = await import("../db/client/index.ts");
  const { migrateDatabase } = await import("../db/migrate.ts");
  const url = process.env.DATABASE_URL;
  const handle = await createDatabase(
    url ?? { kind: "pglite", dataDir: `${resolve(process.env.DATA_DIR ?? ".data")}/db` },
  );
  try {
    if (!url) await migrateDatabase(handle);
    return await run(handle.db);
  } finally {
    await handle.close();
  }
}

function seedOf(text: string): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`--seed: a whole number, got ${text}`);
  return seed;
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: "string", default: "cppn-glove" },
      out: { type: "string" },
      objects: { type: "string", multiple: true },
      "public-url": { type: "string", default: "http://127.0.0.1:8787" },
      "no-fraud-controls": { type: "boolean", default: false },
      dataset: { type: "string" },
      parent: { type: "string" },
      models: { type: "string", default: ".data/models" },
      quick: { type: "boolean", default: false },
      compare: { type: "boolean", default: false },
      seed: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals[0];
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case "curate": {
      const { curate } = await import("./dataset/curate.ts");
      const { FsObjectStore } = await import("../storage/fs.ts");
      const dataDir = resolve(process.env.DATA_DIR ?? ".data");
      const { readdir } = await import("node:fs/promises");
      const regionDirs =
        values.objects ??
        (await readdir(`${dataDir}/regions`).catch(() => [])).map(
          (r) => `${dataDir}/regions/${r}/objects`,
        );
      const stores = regionDirs.map((d) => new FsObjectStore(resolve(d)));
      const { dir, manifest } = await withDatabase((db) =>
        curate(db, {
          model: values.model!,
          outDir: resolve(values.out ?? `${dataDir}/datasets`),
          publicUrl: values["public-url"]!,
          fraudControls: !values["no-fraud-controls"],
          readImage: async (key) => {
            for (const s of stores) {
              const found = await s.get(key);
              if (found) return found.body;
            }
            return null;
          },
        }),
      );
      console.log(
        `dataset ${manifest.id} in ${dir}: ${manifest.counts.pairs} pairs, ${manifest.counts.likes} likes, ${manifest.counts.images} images`,
      );
      return 0;
    }
    case "train": {
      if (!values.dataset) throw new Error("train needs --dataset <dir>");
      const { trainVersion } = await import("./train/train.ts");
      const { registerCandidate } = await import("./train/register-version.ts");
      const { getServingVersions } = await import("../db/queries/models.ts");
      const { readDataset } = await import("./dataset/read-dataset.ts");
      const model = (await readDataset(resolve(values.dataset))).manifest.model;
      await withDatabase(async (db) => {
        const parent = values.parent ?? (await getServingVersions(db, model))?.default?.version;
        if (!parent) throw new Error(`${model} has no default version: name one with --parent`);
        const trained = await trainVersion({
          datasetDir: resolve(values.dataset!),
          modelsDir: resolve(values.models!),
          parentVersion: parent,
        });
        await registerCandidate(db, trained.dir, trained.manifest);
        const e = trained.manifest.lineage!.offline_eval;
        console.log(
          `${model}@${trained.manifest.version}: candidate; held-out win rate ${e.win_rate} vs parent ${e.parent_win_rate} -> ${e.beats_parent ? "may start a canary (npm run admin -- models canary ...)" : "did not beat its parent: no rollout"}`,
        );
      });
      return 0;
    }
    case "simulate": {
      const { runSimulationReport } = await import("./simulate/report.ts");
      return runSimulationReport({
        quick: values.quick,
        compare: values.compare || !values.quick,
        out: values.out === undefined ? undefined : resolve(values.out),
        fraudControls: !values["no-fraud-controls"],
        seed: values.seed === undefined ? undefined : seedOf(values.seed),
      });
    }
    default:
      console.log(USAGE);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
