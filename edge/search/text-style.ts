import {
  REGION_PATHS,
  TextStyleAnswer,
  type TextStyleRequest,
} from "../../contracts/region-protocol.ts";
import { STYLE_DESCRIPTOR, STYLE_EMBEDDING_DIMS } from "../../contracts/style.ts";
import { normalizePrompt } from "../dedup/content-hash.ts";
import { ApiError } from "../errors/index.ts";
import { callRegion, retryAfterSeconds, type RegionClientDeps } from "../routing/region-client.ts";
import type { RegionDirectory } from "../routing/region-directory.ts";
import type { Log } from "../lib/log.ts";

// A text query in the style space, the way the model draws it: a region that has the model draws
// the prompt a few times and answers the mean style embedding (regional-gpu/style/text-style.ts).
// Regions are asked nearest-first with the model warm, failing over like job dispatch; answers are
// kept per model version and normalised text, so a repeated query costs no region call.

export interface TextStyleDeps extends RegionClientDeps {
  directory: RegionDirectory;
  timeoutMs: number;
  log: Log;
}

const CACHE_ENTRIES = 2_000;
const DEFAULT_RETRY_AFTER_S = 5;

export class TextStyleEmbedder {
  private readonly deps: TextStyleDeps;
  private readonly cache = new Map<string, Promise<number[]>>();

  constructor(deps: TextStyleDeps) {
    this.deps = deps;
  }

  embed(model: string, version: string, text: string, requestId: string): Promise<number[]> {
    const normalized = normalizePrompt(text);
    const key = `${model}@${version}\0${normalized}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const work = this.ask({ model, version, text: normalized }, requestId);
    this.cache.set(key, work);
    work.catch(() => this.cache.delete(key));
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return work;
  }

  private async ask(body: TextStyleRequest, requestId: string): Promise<number[]> {
    const { directory } = this.deps;
    const plan = directory.plan({
      client: null,
      colo: null,
      lane: "fast",
      model: `${body.model}@${body.version}`,
    });
    const retryAfters: number[] = [];
    for (const { config: region } of plan.candidates) {
      let res: Response;
      try {
        res = await callRegion(
          region,
          {
            method: "POST",
            path: REGION_PATHS.styleText,
            body: JSON.stringify(body),
            requestId,
            timeoutMs: this.deps.timeoutMs,
          },
          this.deps,
        );
      } catch (err) {
        directory.recordFailure(region.name);
        this.deps.log({
          level: "warn",
          msg: "region unreachable for text style",
          region: region.name,
          request_id: requestId,
          detail: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      if (res.ok) {
        directory.recordSuccess(region.name);
        const answer = TextStyleAnswer.safeParse(await res.json().catch(() => null));
        const embedding = answer.success ? answer.data.embedding : null;
        if (
          embedding?.descriptor === STYLE_DESCRIPTOR &&
          embedding.values.length === STYLE_EMBEDDING_DIMS
        ) {
          return embedding.values;
        }
        // A region on another descriptor (mid-rollout): its vectors do not compare with ours.
        this.deps.log({
          level: "warn",
          msg: "region answered another style descriptor",
          region: region.name,
        });
        continue;
      }
      await res.body?.cancel();
      if (res.status >= 500) directory.recordFailure(region.name);
      const after = retryAfterSeconds(res.headers.get("retry-after"), this.deps.clock());
      if (after !== null) retryAfters.push(after);
    }
    throw new ApiError({
      type: "overloaded_error",
      code: "no_region_available",
      message: `no region can place text in the style space of ${body.model}@${body.version} right now; retry later`,
      headers: {
        "Retry-After": String(
          retryAfters.length ? Math.min(...retryAfters) : DEFAULT_RETRY_AFTER_S,
        ),
      },
    });
  }
}
