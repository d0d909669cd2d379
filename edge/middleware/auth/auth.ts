import type { MiddlewareHandler } from "hono";
import type { ApiKeyAuthenticator, Caller } from "./api-key-authenticator.ts";

export interface AuthOptions {
  authenticator: ApiKeyAuthenticator;
}

/** Requires a valid API key (401 otherwise) and puts its caller in `c.var.caller`. */
export const auth = (opts: AuthOptions): MiddlewareHandler<{ Variables: { caller: Caller } }> => {
  const { authenticator } = opts;
  return async function auth(c, next) {
    c.set("caller", await authenticator.authenticate(c.req.header("authorization")));
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
  const { authenticator } = opts;
  return async function optionalAuth(c, next) {
    const header = c.req.header("authorization");
    c.set("caller", header === undefined ? null : await authenticator.authenticate(header));
    await next();
  };
};
