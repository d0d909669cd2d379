import { join } from "node:path";
import sharp from "sharp";
import {
  createApiClient,
  type ApiClient,
  type ApiSchemas,
} from "../../contracts/client/api-client.ts";
import { eq } from "drizzle-orm";
import { versionStats } from "../../db/queries/model-metrics.ts";
import { applyRolloutStep, getServingVersions } from "../../db/queries/models.ts";
import { models, modelVersions } from "../../db/schema/models.ts";
import { canaryBucket } from "../../edge/generations/canary-routing.ts";
import { forgetModelVersions } from "../../edge/generations/model-version-cache.ts";
import { SeededRandom } from "../../regional-gpu/pipelines/seeded-random.ts";
import { runAdminCommand } from "../../scripts/admin/commands.ts";
import { FsObjectStore } from "../../storage/fs.ts";
import { curate } from "../dataset/curate.ts";
import { evaluateRollouts } from "../rollout/controller.ts";
import { DEFAULT_ROLLOUT_POLICY, type RolloutPolicy } from "../rollout/policy.ts";
import { registerCandidate } from "../train/register-version.ts";
import { trainVersion } from "../train/train.ts";
import { injectWorseVersion } from "./worse-version.ts";
import { makePopulation, PROMPTS, react, spamVote, lightness, type SimUser } from "./population.ts";
import { startSimStack, type SimStack } from "./sim-stack.ts";

// `npm run flywheel -- simulate`: a population with hidden tastes uses the local stack through the
// public API (generate, look, like, dislike, report, refine); after every round the operator side
// runs by itself: the rollout controller, then, with no canary out, curate -> train -> (if it beats
// its parent offline) a canary; one round injects a deliberately worse version as a canary.

export const MODEL = "cppn-glove";
const SIDE = 64;

export interface SimOptions {
  users: number;
  /** How many of PROMPTS the users draw from. */
  prompts: number;
  rounds: number;
  generationsPerUser: number;
  viewsPerUser: number;
  spamVotesPerSpammer: number;
  spammerShare: number;
  canaryShare: number;
  /** The round after which the worse version is injected (when no canary is out then). */
  injectWorseAfter: number;
  fraudControls: boolean;
  policy: RolloutPolicy;
  seed: number;
  log: (line: string) => void;
}

export const FULL: Omit<SimOptions, "fraudControls" | "log"> = {
  users: 40,
  prompts: 8,
  rounds: 10,
  generationsPerUser: 2,
  viewsPerUser: 10,
  spamVotesPerSpammer: 40,
  spammerShare: 0.05,
  canaryShare: 0.5,
  // The worse version first, as in the quick run. Its disliked dark outputs give the first datasets
  // wide-contrast pairs; with it after round 5 the reference's own seed-to-seed spread is all the
  // loop has to learn from at first, and the rise over seeds 1-4 and 7 was +0.02 to +0.26
  // (docs/flywheel.md, "Seeds").
  injectWorseAfter: 1,
  // Scaled to the population like the minimum: a canary with no clear winner after 800 weighted
  // votes each (about 4 rounds) is rolled back, so a tie does not hold the loop for the whole run.
  policy: { ...DEFAULT_ROLLOUT_POLICY, minSample: 80, maxSample: 800 },
  seed: 7,
};

export const QUICK: Omit<SimOptions, "fraudControls" | "log"> = {
  users: 30,
  prompts: 6,
  rounds: 6,
  // Two outputs per user a round: with one, a version drew ~14 images a round and its like rate
  // swung by ~0.1 with which ones; promotion within the 6 rounds then came in 6 of 7 seeds, a rise
  // over 0.1 in 4 of 7 (docs/flywheel.md, "Seeds").
  generationsPerUser: 2,
  viewsPerUser: 8,
  spamVotesPerSpammer: 40,
  spammerShare: 0.05,
  canaryShare: 0.5,
  // The worse version first: its rollback needs one round; training then has two rounds of data.
  injectWorseAfter: 1,
  // A small population: alpha 0.05 one-sided (z >= 1.645) instead of 0.01, and 40 votes minimum.
  policy: { ...DEFAULT_ROLLOUT_POLICY, minSample: 40, zPromote: 1.645 },
  seed: 7,
};

export interface RoundResult {
  round: number;
  default: string | null;
  canary: string | null;
  /** Honest users' likes per look, all versions together. */
  likeRate: number;
  /** Per version: honest looks and likes this round. */
  versions: Record<string, { looks: number; likes: number; likeRate: number }>;
  events: string[];
}

export interface SimResult {
  fraudControls: boolean;
  rounds: RoundResult[];
  /** Every version's role: "reference", "trained", "worse". */
  versions: Record<string, "reference" | "trained" | "worse">;
  rolledBack: string[];
  promoted: string[];
  /**
   * Per version that served, its approval (likes / (likes + dislikes)) three ways: honest users'
   * own votes, as measured with the fraud controls, and as measured without them. The spammers'
   * effect is the distance from `honest`.
   */
  approval: Record<string, { honest: number; withControls: number; withoutControls: number }>;
}

interface Account {
  user: SimUser;
  /**
   * Where the user starts in the prompt rotation: ranks within the user's canary bucket, so the
   * canary's and the default's outputs draw the same prompt mix (prompts differ in lightness far
   * more than versions do, and an unbalanced mix would decide the comparison).
   */
  slot: number;
  client: ApiClient;
  key: string;
  project: string;
  id: string;
}

interface Output {
  id: string;
  owner: number;
  prompt: string;
  version: string;
  url: string;
}

/** Runs `tasks` with at most `limit` at a time, in order of start. */
async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

/**
 * Accounts for the users, paired so that who sees the canary is the same in every run: account ids
 * are random (so are their canary buckets), so accounts are made until each side of the share has
 * enough, and user i of the population goes to the canary side when i falls in its fixed quota
 * (every other user up to the share). Without this a run's outcome hangs on which hidden tastes
 * happen to land in the canary.
 */
async function setUp(stack: SimStack, users: SimUser[], canaryShare: number): Promise<Account[]> {
  const wantCanary = users.filter((_, i) => onCanarySide(i, canaryShare)).length;
  const sides = { canary: [] as Made[], default: [] as Made[] };
  for (let made = 0; made < users.length * 20; made++) {
    if (sides.canary.length >= wantCanary && sides.default.length >= users.length - wantCanary) {
      break;
    }
    const account = await makeAccount(stack, made);
    const side = canaryBucket(account.id, MODEL) < canaryShare ? sides.canary : sides.default;
    side.push(account);
  }
  if (sides.canary.length < wantCanary || sides.default.length < users.length - wantCanary) {
    throw new Error("could not make accounts on both sides of the canary share");
  }
  return pool(
    4,
    users.map((user, i) => async () => {
      const { id, key } = onCanarySide(i, canaryShare)
        ? sides.canary.shift()!
        : sides.default.shift()!;
      const client = createApiClient({ baseUrl: stack.edgeUrl, apiKey: key });
      const { data, error } = await client.POST("/v1/projects", {
        body: { name: `gallery ${user.index}`, visibility: "public" },
      });
      if (!data) throw new Error(`project: ${JSON.stringify(error)}`);
      return { user, slot: 0, client, key, project: data.id, id };
    }),
  );
}

interface Made {
  id: string;
  key: string;
}

/** Whether user `i` of `n` belongs on the canary side: an even spread up to the share. */
function onCanarySide(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

async function makeAccount(stack: SimStack, n: number): Promise<Made> {
  const made = await runAdminCommand(
    stack.database.db,
    { command: "create-account", name: `sim account ${n}`, plan: "enterprise" },
    stack.pepper,
  );
  return { id: (made.account as { id: string }).id, key: made.key as string };
}

/** Gives each honest user its slot: its rank among the honest users of its canary bucket. */
function assignSlots(accounts: Account[], canaryShare: number): void {
  const ranks = new Map<boolean, number>();
  for (const a of accounts.filter((x) => !x.user.spammer)) {
    const onCanary = canaryBucket(a.id, MODEL) < canaryShare;
    a.slot = ranks.get(onCanary) ?? 0;
    ranks.set(onCanary, a.slot + 1);
  }
}

async function generate(
  a: Account,
  prompt: string,
  seed: number,
): Promise<ApiSchemas["Generation"]> {
  const { data, error } = await a.client.POST("/v1/generations", {
    body: { prompt, seed, width: SIDE, height: SIDE, project: a.project },
    headers: { prefer: "wait=60" },
  });
  if (!data) throw new Error(`generate: ${JSON.stringify(error)}`);
  return data as ApiSchemas["Generation"];
}

/** The viewer downloads the output (a recorded fetch) and measures its lightness. */
async function look(a: Account, url: string): Promise<number> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${a.key}` } });
  if (!res.ok) throw new Error(`asset ${url}: HTTP ${res.status}`);
  const { data, info } = await sharp(new Uint8Array(await res.arrayBuffer()))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return lightness({
    width: info.width,
    height: info.height,
    channels: 3,
    data: new Uint8Array(data),
  });
}

async function vote(a: Account, id: string, kind: "like" | "dislike" | "report"): Promise<void> {
  const { response } = await a.client.POST("/v1/generations/{id}/feedback", {
    params: { path: { id } },
    body: kind === "report" ? { kind, reason: "other" } : { kind },
  });
  // 429: the per-account vote limit (spammers hit it); anything else is a bug here.
  if (!response.ok && response.status !== 429) throw new Error(`feedback: HTTP ${response.status}`);
}

type Tally = Map<string, { looks: number; likes: number }>;
type HonestVotes = Map<string, { likes: number; dislikes: number }>;

/** Everyone honest generates; prompts in rotation, seeds drawn in user order. */
async function generateRound(
  honest: Account[],
  options: SimOptions,
  random: SeededRandom,
  round: number,
): Promise<Output[]> {
  // Prompts in rotation (user i, round r, k-th output: prompt i + r + k): every round draws each
  // prompt about equally often, so like rates compare across rounds.
  const requests = honest.flatMap((a) =>
    Array.from({ length: options.generationsPerUser }, (_, k) => ({
      a,
      prompt: PROMPTS[(a.slot + round + k) % options.prompts]!,
      seed: Math.floor(random.nextFloat() * 2 ** 31),
    })),
  );
  const generated = await pool(
    6,
    requests.map(({ a, prompt, seed }) => async () => ({
      a,
      prompt,
      g: await generate(a, prompt, seed),
    })),
  );
  return generated
    .filter(({ g }) => g.status === "succeeded" && g.output)
    .map(({ a, prompt, g }) => ({
      id: g.id,
      owner: a.user.index,
      prompt,
      version: g.model_version,
      url: g.output!.url,
    }));
}

interface LookPlan {
  a: Account;
  seen: Output[];
  own: Output[];
  draws: number[];
}

/**
 * What each honest user looks at and every draw their reactions will use, drawn here in user order
 * so a round's choices never hang on which request finishes first: three per output seen (two for
 * the reaction, one for a report), two per own output.
 */
function planLooks(
  honest: Account[],
  outputs: Output[],
  options: SimOptions,
  random: SeededRandom,
): LookPlan[] {
  return honest.map((a) => {
    const others = outputs.filter((o) => o.owner !== a.user.index);
    const picked = Array.from(
      { length: Math.min(options.viewsPerUser, others.length) },
      () => others[Math.floor(random.nextFloat() * others.length)]!,
    );
    const own = outputs.filter((o) => o.owner === a.user.index);
    const seen = [...new Map(picked.map((o) => [o.id, o])).values()];
    const draws = Array.from({ length: 3 * seen.length + 2 * own.length }, () =>
      random.nextFloat(),
    );
    return { a, seen, own, draws };
  });
}

/** One user's reactions to what they looked at: votes, the odd report, refines of their own. */
async function respond(
  { a, seen, own, draws }: LookPlan,
  lightness: { seen: number[]; own: number[] },
  honestVotes: HonestVotes,
): Promise<Tally> {
  const tally: Tally = new Map();
  let d = 0;
  for (const [j, o] of seen.entries()) {
    const reaction = react(a.user, lightness.seen[j]!, draws[d++]!, draws[d++]!);
    const t = tally.get(o.version) ?? { looks: 0, likes: 0 };
    t.looks++;
    if (reaction === "like") t.likes++;
    tally.set(o.version, t);
    if (reaction !== "none") {
      await vote(a, o.id, reaction);
      const h = honestVotes.get(o.version) ?? { likes: 0, dislikes: 0 };
      h[reaction === "like" ? "likes" : "dislikes"]++;
      honestVotes.set(o.version, h);
    }
    // Now and then a disliked output is reported (reports are for abuse, so rarely).
    if (reaction === "dislike" && draws[d++]! < 0.005) await vote(a, o.id, "report");
  }
  // Working on one's own liked outputs: a refine.
  for (const [j, o] of own.entries()) {
    if (react(a.user, lightness.own[j]!, draws[d++]!, 1) === "like" && draws[d++]! < 0.25) {
      await a.client.POST("/v1/generations/{id}/refine", {
        params: { path: { id: o.id } },
        body: {},
      });
    }
  }
  return tally;
}

/** Spammers boost the canary: bursts of votes on outputs they never fetched. */
async function spam(
  accounts: Account[],
  outputs: Output[],
  options: SimOptions,
  canary: string,
): Promise<void> {
  for (const a of accounts.filter((x) => x.user.spammer)) {
    const targets = outputs.slice(0, options.spamVotesPerSpammer);
    await pool(
      8,
      targets.map((o) => () => vote(a, o.id, spamVote(o.version, canary))),
    );
  }
}

/** One round of use: everyone generates, honest users look and vote (and refine), spammers spam. */
async function useRound(
  accounts: Account[],
  options: SimOptions,
  random: SeededRandom,
  round: number,
  canary: string | null,
  honestVotes: HonestVotes,
): Promise<{ outputs: Output[]; looks: Tally }> {
  const honest = accounts.filter((a) => !a.user.spammer);
  const outputs = await generateRound(honest, options, random, round);
  const plans = planLooks(honest, outputs, options, random);
  // Everyone looks first (each download is recorded), then votes: a vote counts in full only on
  // an output its voter had fetched.
  const measured = await pool(
    6,
    plans.map(({ a, seen, own }) => async () => ({
      seen: await Promise.all(seen.map((o) => look(a, o.url))),
      own: await Promise.all(own.map((o) => look(a, o.url))),
    })),
  );
  const tallies = await pool(
    6,
    plans.map((plan, i) => () => respond(plan, measured[i]!, honestVotes)),
  );
  // Summed in user order (not completion order), so versions list the same way every run.
  const looks: Tally = new Map();
  for (const [version, t] of tallies.flatMap((x) => [...x])) {
    const sum = looks.get(version) ?? { looks: 0, likes: 0 };
    looks.set(version, { looks: sum.looks + t.looks, likes: sum.likes + t.likes });
  }
  if (canary) await spam(accounts, outputs, options, canary);
  return { outputs, looks };
}

interface OperatorState {
  injected: boolean;
  datasets: number;
  versions: SimResult["versions"];
  promoted: string[];
  rolledBack: string[];
}

/** The rollout controller's pass: promotions and rollbacks recorded, holds described. */
async function runController(
  stack: SimStack,
  options: SimOptions,
  state: OperatorState,
): Promise<string[]> {
  const events: string[] = [];
  for (const o of await evaluateRollouts(stack.database.db, {
    policy: options.policy,
    fraudControls: options.fraudControls,
  })) {
    if (o.decision.action === "hold") {
      const e = o.decision.evidence as {
        canary: { approval: number; likes: number; dislikes: number };
        default: { approval: number; likes: number; dislikes: number };
      };
      events.push(
        `hold ${o.canary}: ${o.decision.reason}; approval ${e.canary.approval} (${(e.canary.likes + e.canary.dislikes).toFixed(1)} weighted votes) vs ${e.default.approval} (${(e.default.likes + e.default.dislikes).toFixed(1)})`,
      );
      continue;
    }
    (o.decision.action === "promote" ? state.promoted : state.rolledBack).push(o.canary);
    events.push(`${o.decision.action} ${o.canary} (${o.decision.reason})`);
  }
  return events;
}

/** The deliberately worse version, as a canary (as if exported by hand). */
async function injectWorse(
  stack: SimStack,
  options: SimOptions,
  round: number,
  parent: string,
  state: OperatorState,
): Promise<string> {
  const db = stack.database.db;
  state.injected = true;
  const worse = await injectWorseVersion(
    db,
    stack.config.modelDir,
    MODEL,
    parent,
    `worse-r${round}`,
  );
  state.versions[worse] = "worse";
  await applyRolloutStep(
    db,
    MODEL,
    { action: "canary", version: worse, share: options.canaryShare },
    { actor: "admin", reason: "simulation: a deliberately worse version" },
  );
  return `canary ${worse} (injected, deliberately worse)`;
}

/** Curate -> train on the current default -> a canary when it beats its parent offline. */
async function trainCandidate(
  stack: SimStack,
  options: SimOptions,
  parent: string,
  state: OperatorState,
): Promise<string> {
  const db = stack.database.db;
  const objects = stack.objectDirs.map((dir) => new FsObjectStore(dir));
  const dataset = await curate(db, {
    model: MODEL,
    outDir: join(stack.config.dataDir, "datasets"),
    publicUrl: stack.edgeUrl,
    fraudControls: options.fraudControls,
    readImage: async (key) => {
      for (const store of objects) {
        const found = await store.get(key);
        if (found) return found.body;
      }
      return null;
    },
  });
  state.datasets++;
  const { counts, id } = dataset.manifest;
  if (counts.pairs < 20)
    return `dataset ${id.slice(0, 8)}: ${counts.pairs} pairs, too few to train`;
  const trained = await trainVersion({
    datasetDir: dataset.dir,
    modelsDir: stack.config.modelDir,
    parentVersion: parent,
    log: () => {},
  });
  const { manifest } = trained;
  state.versions[manifest.version] = "trained";
  await registerCandidate(db, trained.dir, manifest);
  const evalOf = manifest.lineage!.offline_eval;
  const summary = `${manifest.version} from ${parent} on ${counts.pairs} pairs + ${counts.likes} likes: held-out win rate ${evalOf.win_rate} vs parent ${evalOf.parent_win_rate}`;
  if (!evalOf.beats_parent) return `trained ${summary}: not better, no rollout`;
  await applyRolloutStep(
    db,
    MODEL,
    { action: "canary", version: manifest.version, share: options.canaryShare },
    { actor: "auto", reason: `trained on dataset ${id.slice(0, 16)}; beat its parent offline` },
  );
  return `canary ${summary}`;
}

/** The operator side after a round: controller, then a new candidate when no canary is out. */
async function operate(
  stack: SimStack,
  options: SimOptions,
  round: number,
  state: OperatorState,
): Promise<string[]> {
  const events = await runController(stack, options, state);
  const serving = await getServingVersions(stack.database.db, MODEL);
  if (!serving?.default || serving.canary) return events;
  const parent = serving.default.version;
  const next =
    round >= options.injectWorseAfter && !state.injected
      ? await injectWorse(stack, options, round, parent, state)
      : await trainCandidate(stack, options, parent, state);
  return [...events, next];
}

/** Every version's approval by honest users' votes, and as measured with and without the controls. */
async function approvals(
  stack: SimStack,
  honest: Map<string, { likes: number; dislikes: number }>,
): Promise<SimResult["approval"]> {
  const db = stack.database.db;
  const rows = await db
    .select({ id: modelVersions.id, version: modelVersions.version })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(eq(models.name, MODEL));
  const ids = rows.map((r) => r.id);
  const [withControls, withoutControls] = await Promise.all([
    versionStats(db, { versionIds: ids, fraudControls: true }),
    versionStats(db, { versionIds: ids, fraudControls: false }),
  ]);
  const rate = (s?: { likes: number; dislikes: number }) =>
    s && s.likes + s.dislikes > 0 ? round3(s.likes / (s.likes + s.dislikes)) : 0;
  const out: SimResult["approval"] = {};
  for (const r of rows) {
    if (!honest.has(r.version)) continue;
    out[r.version] = {
      honest: rate(honest.get(r.version)),
      withControls: rate(withControls.get(r.id)),
      withoutControls: rate(withoutControls.get(r.id)),
    };
  }
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const { log } = options;
  const stack = await startSimStack({ regions: 1, log: () => {} });
  try {
    const random = new SeededRandom(options.seed);
    const users = makePopulation({
      users: options.users,
      spammerShare: options.spammerShare,
      seed: options.seed,
    });
    const accounts = await setUp(stack, users, options.canaryShare);
    assignSlots(accounts, options.canaryShare);
    const reference = (await getServingVersions(stack.database.db, MODEL))!.default!.version;
    const state: OperatorState = {
      injected: false,
      datasets: 0,
      versions: { [reference]: "reference" },
      promoted: [],
      rolledBack: [],
    };
    const rounds: RoundResult[] = [];
    const honestVotes = new Map<string, { likes: number; dislikes: number }>();
    for (let round = 1; round <= options.rounds; round++) {
      const serving = (await getServingVersions(stack.database.db, MODEL))!;
      const { looks } = await useRound(
        accounts,
        options,
        random,
        round,
        serving.canary?.version.version ?? null,
        honestVotes,
      );
      let [allLooks, allLikes] = [0, 0];
      const versions: RoundResult["versions"] = {};
      for (const [version, t] of looks) {
        versions[version] = { ...t, likeRate: t.looks ? t.likes / t.looks : 0 };
        allLooks += t.looks;
        allLikes += t.likes;
      }
      const events = await operate(stack, options, round, state);
      const result: RoundResult = {
        round,
        default: serving.default?.version ?? null,
        canary: serving.canary
          ? `${serving.canary.version.version} (${serving.canary.share})`
          : null,
        likeRate: allLooks ? allLikes / allLooks : 0,
        versions,
        events,
      };
      rounds.push(result);
      log(
        `round ${round}: like rate ${result.likeRate.toFixed(3)} | ${Object.entries(versions)
          .map(([v, t]) => `${v} ${t.likeRate.toFixed(3)} (${t.looks})`)
          .join(", ")}${events.length ? `\n  ${events.join("\n  ")}` : ""}`,
      );
      // The edge runs in this process: it sees a rollout step at once (else within the TTL).
      forgetModelVersions(stack.database.db);
    }
    return {
      fraudControls: options.fraudControls,
      rounds,
      versions: state.versions,
      rolledBack: state.rolledBack,
      promoted: state.promoted,
      approval: await approvals(stack, honestVotes),
    };
  } finally {
    await stack.close();
  }
}
