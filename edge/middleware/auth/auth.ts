import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../../errors/index.ts";
import type { AccessLimits } from "../../limits/access-limits.ts";
import type { ApiKeyAuthenticator, Caller } from "./api-key-authenticator.ts";

export interface AuthOptions {
  authenticator: ApiKeyAuthenticator;
  /** Reads per account (GET/HEAD) and failed authentications per client: access-limits.ts. */
  limits?: AccessLimits;
  /**
   * The client's address as the runtime knows it (Workers: CF-Connecting-IP; Node and Deno: the
   * socket's peer). Absent or undefined: no per-client limit on failed authentications.
   */
  clientAddress?: (c: Context) => string | undefined;
}

const tooMany = (code: string, message: string, retryAfterS: number) =>
  new ApiError({
    type: "rate_limit_error",
    code,
    message,
    headers: { "Retry-After": String(retryAfterS) },
  });

/** Requires a valid API key (401 otherwise) and puts its caller in `c.var.caller`. */
export const auth = (opts: AuthOptions): MiddlewareHandler<{ Variables: { caller: Caller } }> => {
  return async function auth(c, next) {
    const caller = await authenticate(c, opts);
    if (caller === null) throw new Error("unreachable: a missing key is a 401");
    if (opts.limits && (c.req.method === "GET" || c.req.method === "HEAD")) {
      const waitS = opts.limits.read(caller.account.id);
      if (waitS !== null) {
        throw tooMany("read_rate_limit_exceeded", "too many reads for this account", waitS);
      }
    }
    c.set("caller", caller);
    await next();
  };
};

/**
 * For routes that also serve anonymous callers (public assets): no Authorization header gives
 * `c.var.caller === null`; a header that is present must still be valid (401 otherwise).
 */
export const optionalAuth = (
  opts: AuthOptions,
): MiddlewareHandler<{ Variables: { caller: Caller | null } }> => {
  return async function optionalAuth(c, next) {
    const header = c.req.header("authorization");
    c.set("caller", header === undefined ? null : await authenticate(c, opts));
    await next();
  };
};

/**
 * The caller, counting a bad key against the client; a client past its failed attempts gets 429
 * before any lookup, unless its key is one this isolate has already found.
 */
async function authenticate(c: Context, opts: AuthOptions): Promise<Caller> {
  const header = c.req.header("authorization");
  const client = opts.limits ? opts.clientAddress?.(c) : undefined;
  if (client && header !== undefined) {
    const waitS = opts.limits!.failedAuthWaitS(client);
    if (waitS > 0 && !(await opts.authenticator.knows(header))) {
      throw tooMany(
        "too_many_failed_authentications",
        "too many requests with invalid API keys from this client",
        waitS,
      );
    }
  }
  try {
    return await opts.authenticator.authenticate(header);
  } catch (err) {
    // Guessing keys costs attempts; forgetting the header does not.
    if (client && err instanceof ApiError && err.code !== "missing_api_key") {
      opts.limits!.failedAuth(client);
    }
    throw err;
  }
}
