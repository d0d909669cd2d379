import type { ResponseCache } from "../assets/response-cache.ts";

/** The ResponseCache contract over a Map: what the Cache API does on Workers, minus the network. */
export class MapResponseCache implements ResponseCache {
  readonly entries = new Map<string, { body: ArrayBuffer; init: ResponseInit }>();
  hits = 0;
  async match(request: Request) {
    const entry = this.entries.get(request.url);
    if (!entry) return undefined;
    this.hits += 1;
    return new Response(entry.body.slice(0), entry.init);
  }
  async delete(request: Request) {
    return this.entries.delete(request.url);
  }
  async put(request: Request, response: Response) {
    const body = await response.arrayBuffer();
    this.entries.set(request.url, {
      body,
      init: { status: response.status, headers: [...response.headers] },
    });
  }
}
