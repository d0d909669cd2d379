import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./openapi-paths.ts";

// The typed client of the public API: paths, parameters, bodies and answers are the types
// openapi-typescript generated from docs/openapi.json. Works wherever fetch does (Node, Deno,
// Workers, browsers).

export type ApiClient = Client<paths>;
export type ApiSchemas = components["schemas"];

export interface ApiClientOptions {
  /** The edge's origin, e.g. `https://api.example.com` or `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  fetch?: typeof fetch;
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  return createClient<paths>({
    baseUrl: opts.baseUrl,
    fetch: opts.fetch,
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
  });
}
