import type { ResponseCache } from "./response-cache.ts";
import { sharedCacheSeconds } from "./shared-cache-lifetime.ts";

export interface MemoryResponseCacheOptions {
  /** Bodies, headers and URLs held at most; the least recently used go first. */
  maxBytes: number;
  /** Larger responses are not kept (default: maxBytes / 8), so one cannot flush all the rest. */
  maxEntryBytes?: number;
  clock?: () => number;
}

interface Entry {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  size: number;
  expiresAt: number;
}

/**
 * The Node edge's Cache API: responses in this process's memory, bounded by total bytes, least
 * recently used evicted first. Lifetimes as the Workers cache gives them: `(s-)max-age`, and
 * nothing `private`, `no-store` or other than 200.
 */
export class MemoryResponseCache implements ResponseCache {
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  readonly #clock: () => number;
  /** Insertion order is recency: a hit moves its entry to the end. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(opts: MemoryResponseCacheOptions) {
    this.#maxBytes = opts.maxBytes;
    this.#maxEntryBytes = Math.min(opts.maxEntryBytes ?? opts.maxBytes / 8, opts.maxBytes);
    this.#clock = opts.clock ?? Date.now;
  }

  /** Bytes held now (bodies, headers, URLs). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  async match(request: Request): Promise<Response | undefined> {
    if (request.method !== "GET") return undefined;
    const entry = this.#entries.get(request.url);
    if (!entry) return undefined;
    this.#entries.delete(request.url);
    if (entry.expiresAt <= this.#clock()) {
      this.#bytes -= entry.size;
      return undefined;
    }
    this.#entries.set(request.url, entry);
    // Response copies a view's bytes when read, so callers never change what is held here.
    return new Response(entry.body as Uint8Array<ArrayBuffer>, {
      status: entry.status,
      headers: entry.headers,
    });
  }

  async delete(request: Request): Promise<boolean> {
    const held = this.#entries.has(request.url);
    this.#remove(request.url);
    return held;
  }

  async put(request: Request, response: Response): Promise<void> {
    // What was held under this URL goes either way: the newer response replaces it, or says that
    // it must not be kept.
    this.#remove(request.url);
    const maxAgeS = sharedCacheSeconds(request.method, response);
    if (maxAgeS === null) {
      await response.body?.cancel();
      return;
    }
    const body = new Uint8Array(await response.arrayBuffer());
    const headers = [...response.headers];
    const size =
      body.byteLength +
      request.url.length +
      headers.reduce((n, [name, value]) => n + name.length + value.length, 0);
    if (size > this.#maxEntryBytes) return;
    this.#remove(request.url);
    this.#entries.set(request.url, {
      status: response.status,
      headers,
      body,
      size,
      expiresAt: this.#clock() + maxAgeS * 1000,
    });
    this.#bytes += size;
    for (const url of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(url);
    }
  }

  #remove(url: string): void {
    const entry = this.#entries.get(url);
    if (!entry) return;
    this.#entries.delete(url);
    this.#bytes -= entry.size;
  }
}
