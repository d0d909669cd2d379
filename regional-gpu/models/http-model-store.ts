import { Agent, request } from "undici";
import { ModelStoreUnreachableError } from "./model-errors.ts";
import {
  describeNetworkError,
  type RemoteModelStore,
  type RemoteObject,
} from "./remote-model-store.ts";

// A model store behind HTTPS (or HTTP on a private network): GET <base>/<name>/<version>/<file>.
// Connect, headers and body each time out after `timeoutMs`, so a dead store fails instead of hanging.

export interface HttpModelStoreOptions {
  /** e.g. https://models.example.com/genart/ (a trailing slash is added when missing). */
  baseUrl: string;
  timeoutMs: number;
}

export class HttpModelStore implements RemoteModelStore {
  readonly description: string;
  private readonly base: URL;
  private readonly agent: Agent;

  constructor(opts: HttpModelStoreOptions) {
    this.base = new URL(opts.baseUrl.endsWith("/") ? opts.baseUrl : `${opts.baseUrl}/`);
    if (this.base.protocol !== "https:" && this.base.protocol !== "http:") {
      throw new TypeError(`model store URL must be http(s): ${opts.baseUrl}`);
    }
    // Never log credentials or signed query strings.
    this.description = `${this.base.origin}${this.base.pathname}`;
    this.agent = new Agent({
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  async open(key: string, signal: AbortSignal): Promise<RemoteObject | null> {
    const url = new URL(key.split("/").map(encodeURIComponent).join("/"), this.base);
    let res;
    try {
      res = await request(url, { method: "GET", dispatcher: this.agent, signal });
    } catch (err) {
      throw new ModelStoreUnreachableError(
        this.description,
        `GET ${key}: ${describeNetworkError(err)}`,
        err,
      );
    }
    if (res.statusCode === 200) {
      const length = Number(res.headers["content-length"]);
      return { body: res.body, ...(Number.isSafeInteger(length) && { bytes: length }) };
    }
    await res.body.dump();
    if (res.statusCode === 404) return null;
    throw new ModelStoreUnreachableError(this.description, `GET ${key} answered ${res.statusCode}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
