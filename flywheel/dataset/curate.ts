import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database } from "../../db/client/index.ts";
import { assetFetches } from "../../db/schema/asset-fetches.ts";
import { generations, type GenerationRow } from "../../db/schema/generations.ts";
import { readFeedbackSignals } from "../../edge/feedback/signals.ts";
import { writeFileAtomic } from "../../regional-gpu/model-build/atomic-file.ts";
import { normalizeText } from "../../regional-gpu/pipelines/tokenize.ts";
import { datasetCard } from "./dataset-card.ts";
import {
  DATASET_FORMAT,
  DatasetManifest,
  type ImageRef,
  type LikedOutput,
  type PreferencePair,
} from "./format.ts";
import {
  addDownloads,
  addSignal,
  byKey,
  emptyScore,
  MAX_PAIRS_PER_PROMPT,
  pairsOf,
  SCORING,
  type OutputScore,
} from "./score.ts";

// `npm run flywheel -- curate`: scores a model's outputs by engagement and writes a versioned
// dataset folder (format.ts). Deterministic: the same database state (and image bytes) gives the
// same files and the same id, so the folder is named by it.

export interface CurateOptions {
  model: string;
  /** Datasets go to <outDir>/<model>/<id, 16 hex>. */
  outDir: string;
  /** An output's PNG bytes by asset key (the object stores), or null: the URL is written instead. */
  readImage: (assetKey: string) => Promise<Uint8Array | null>;
  /** Base of asset URLs for images not exported (GET /v1/assets/:key). */
  publicUrl: string;
  /** false: every vote at weight 1, own and test-mode votes included (comparisons only). */
  fraudControls?: boolean;
  /** Only signals before this time. */
  until?: Date;
}

export interface CuratedDataset {
  dir: string;
  manifest: DatasetManifest;
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const CHUNK = 500;

async function generationsById(db: Database, ids: readonly string[]): Promise<GenerationRow[]> {
  const rows: GenerationRow[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    rows.push(
      ...(await db
        .select()
        .from(generations)
        .where(inArray(generations.id, ids.slice(i, i + CHUNK)))),
    );
  }
  return rows;
}

/** Downloads of each asset by accounts other than its owner. */
async function downloadsOf(
  db: Database,
  rows: readonly GenerationRow[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const keys = rows.map((r) => r.assetKey!).filter(Boolean);
  for (let i = 0; i < keys.length; i += CHUNK) {
    const found = await db
      .select({
        generation: generations.id,
        n: sql<number>`count(distinct ${assetFetches.accountId})::int`,
      })
      .from(assetFetches)
      .innerJoin(generations, eq(generations.assetKey, assetFetches.assetKey))
      .where(
        and(
          inArray(assetFetches.assetKey, keys.slice(i, i + CHUNK)),
          ne(assetFetches.accountId, generations.accountId),
        ),
      )
      .groupBy(generations.id);
    for (const f of found) out.set(f.generation, f.n);
  }
  return out;
}

/** A row's identity for pairing: its output bytes, else its id (see `Scored.key`). */
const keyed = (r: GenerationRow) => ({ id: r.id, key: r.outputSha256 ?? r.id });

/** Scored outputs: succeeded, live, visible outputs of the model with their engagement scores. */
interface ScoredOutputs {
  rows: GenerationRow[];
  scores: Map<string, OutputScore>;
  counted: number;
  excluded: number;
}

async function scoreOutputs(db: Database, options: CurateOptions): Promise<ScoredOutputs> {
  const ofModel = (
    await readFeedbackSignals(db, {
      until: options.until,
      fraudControls: options.fraudControls ?? true,
    })
  ).filter((s) => s.model === options.model);
  const signals = ofModel.filter((s) => s.counts && !s.hidden);
  const scores = new Map<string, OutputScore>();
  for (const s of signals) {
    let score = scores.get(s.generationId);
    if (!score) scores.set(s.generationId, (score = emptyScore()));
    addSignal(score, s);
  }
  const rows = (await generationsById(db, [...scores.keys()].sort()))
    .filter(
      (r) =>
        r.status === "succeeded" &&
        r.mode === "live" &&
        r.assetKey !== null &&
        r.reviewState !== "pending" &&
        r.reviewState !== "removed",
    )
    .sort((a, b) => byKey(keyed(a), keyed(b)));
  const downloads = await downloadsOf(db, rows);
  for (const r of rows) addDownloads(scores.get(r.id)!, downloads.get(r.id) ?? 0);
  return { rows, scores, counted: signals.length, excluded: ofModel.length - signals.length };
}

/**
 * The images a dataset refers to: each written once into `<staging>/images/<sha256>.png` (or its
 * URL when the bytes are not at hand); `files` collects every written file with its sha256.
 */
class ImageExport {
  readonly files = new Map<string, string>();
  readonly #refs = new Map<string, ImageRef>();

  readonly #staging: string;
  readonly #scores: Map<string, OutputScore>;
  readonly #options: CurateOptions;

  constructor(staging: string, scores: Map<string, OutputScore>, options: CurateOptions) {
    this.#staging = staging;
    this.#scores = scores;
    this.#options = options;
  }

  has(r: GenerationRow): boolean {
    return this.#refs.has(r.id);
  }

  async refOf(r: GenerationRow): Promise<ImageRef> {
    const known = this.#refs.get(r.id);
    if (known) return known;
    const bytes = await this.#options.readImage(r.assetKey!);
    let image = `${this.#options.publicUrl.replace(/\/$/, "")}/v1/assets/${r.assetKey}`;
    let digest: string | null = null;
    if (bytes) {
      digest = sha256(bytes);
      image = `images/${digest}.png`;
      if (!this.files.has(image)) {
        await writeFileAtomic(join(this.#staging, image), bytes);
        this.files.set(image, digest);
      }
    }
    const ref: ImageRef = {
      generation: r.id,
      image,
      sha256: digest,
      model: r.model,
      model_version: r.modelVersion,
      seed: r.params.seed,
      width: r.params.width,
      height: r.params.height,
      score: Math.round(this.#scores.get(r.id)!.score * 10_000) / 10_000,
    };
    this.#refs.set(r.id, ref);
    return ref;
  }
}

/** Preference pairs within each prompt (and negative prompt), prompts in sorted order. */
async function preferencePairs(
  { rows, scores }: ScoredOutputs,
  images: ImageExport,
): Promise<{ pairs: PreferencePair[]; tiesDropped: number }> {
  const byPrompt = new Map<string, GenerationRow[]>();
  for (const r of rows) {
    const key = `${normalizeText(r.prompt).trim()}\u0000${normalizeText(r.negativePrompt ?? "").trim()}`;
    byPrompt.set(key, [...(byPrompt.get(key) ?? []), r]);
  }
  const pairs: PreferencePair[] = [];
  let tiesDropped = 0;
  for (const key of [...byPrompt.keys()].sort()) {
    const group = byPrompt
      .get(key)!
      .map((r) => ({ ...keyed(r), score: scores.get(r.id)!.score, row: r }));
    const { pairs: found, ties } = pairsOf(group);
    tiesDropped += ties;
    for (const { chosen, rejected } of found) {
      pairs.push({
        id: sha256(`${chosen.key}:${rejected.key}`).slice(0, 32),
        prompt: chosen.row.prompt,
        negative_prompt: chosen.row.negativePrompt,
        chosen: await images.refOf(chosen.row),
        rejected: await images.refOf(rejected.row),
        label: 1,
      });
    }
  }
  return { pairs, tiesDropped };
}

/** Outputs with likes and a positive score. */
async function likedOutputs({ rows, scores }: ScoredOutputs, images: ImageExport) {
  const likes: LikedOutput[] = [];
  for (const r of rows) {
    const s = scores.get(r.id)!;
    if (s.likes > 0 && s.score > 0) {
      likes.push({
        prompt: r.prompt,
        negative_prompt: r.negativePrompt,
        output: await images.refOf(r),
        likes: Math.round(s.likes * 10_000) / 10_000,
      });
    }
  }
  return likes;
}

/** The manifest before its file list: the id hashes every file written so far. */
function draftManifest(
  options: CurateOptions,
  scored: ScoredOutputs,
  images: ImageExport,
  counts: { pairs: number; tiesDropped: number; likes: number },
): DatasetManifest {
  const listed = [...images.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const included = scored.rows.filter((r) => images.has(r)).map((r) => r.createdAt.getTime());
  return {
    format: DATASET_FORMAT,
    id: sha256(listed.map(([path, digest]) => `${path} ${digest}\n`).join("")),
    model: options.model,
    counts: {
      generations_scored: scored.rows.length,
      pairs: counts.pairs,
      ties_dropped: counts.tiesDropped,
      likes: counts.likes,
      images: listed.filter(([f]) => f.startsWith("images/")).length,
      votes_counted: scored.counted,
      votes_excluded: scored.excluded,
    },
    date_range: {
      from: included.length ? new Date(Math.min(...included)).toISOString() : null,
      to: included.length ? new Date(Math.max(...included)).toISOString() : null,
    },
    filters: [
      `model ${options.model}, succeeded live outputs (test mode excluded)`,
      "outputs hidden by reports or removed after review excluded",
      (options.fraudControls ?? true)
        ? "votes on one's own outputs and from test-mode keys excluded; each vote weighted by its voter's fraud weight"
        : "fraud controls OFF: every vote at weight 1 (comparison run)",
      "pairs only between outputs of the same prompt and negative prompt; ties (and outputs with the same bytes) dropped; a pair is named by its two images' sha256",
      `at most ${MAX_PAIRS_PER_PROMPT} pairs per prompt, widest score gaps first`,
      ...(options.until ? [`signals before ${options.until.toISOString()}`] : []),
    ],
    scoring: { ...SCORING },
    files: [],
  };
}

export async function curate(db: Database, options: CurateOptions): Promise<CuratedDataset> {
  const scored = await scoreOutputs(db, options);
  const staging = join(options.outDir, options.model, `.staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, "images"), { recursive: true });
  const images = new ImageExport(staging, scored.scores, options);
  const { pairs, tiesDropped } = await preferencePairs(scored, images);
  const likes = await likedOutputs(scored, images);

  const jsonl = (items: readonly unknown[]) =>
    items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");
  for (const [name, text] of [
    ["pairs.jsonl", jsonl(pairs)],
    ["likes.jsonl", jsonl(likes)],
  ] as const) {
    await writeFileAtomic(join(staging, name), text);
    images.files.set(name, sha256(text));
  }
  const draft = draftManifest(options, scored, images, {
    pairs: pairs.length,
    tiesDropped,
    likes: likes.length,
  });
  const card = datasetCard(draft);
  await writeFileAtomic(join(staging, "README.md"), card);
  const files = new Map([...images.files, ["README.md", sha256(card)]]);
  for (const [path, digest] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    draft.files.push({ path, sha256: digest, bytes: (await stat(join(staging, path))).size });
  }
  const manifest = DatasetManifest.parse(draft);
  await writeFileAtomic(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const dir = join(options.outDir, options.model, manifest.id.slice(0, 16));
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  return { dir, manifest };
}
