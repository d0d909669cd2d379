import type { MiddlewareHandler } from "hono";
import { Scope, SCOPES } from "../../../contracts/keys.ts";
import { ALL_SCOPES } from "../../../db/queries/api-keys.ts";
import { ApiError } from "../../errors/index.ts";
import { auth, type AuthOptions, type Caller } from "../auth/index.ts";

/** The scopes a stored key grants: `*` (keys made before scopes, or by the CLI) grants them all. */
export function grantedScopes(stored: readonly string[]): Scope[] {
  if (stored.includes(ALL_SCOPES)) return [...SCOPES];
  return SCOPES.filter((s) => stored.includes(s));
}

export const hasScope = (caller: Caller, scope: Scope) =>
  caller.apiKey.scopes.includes(ALL_SCOPES) || caller.apiKey.scopes.includes(scope);

export const missingScope = (scope: Scope) =>
  new ApiError({
    type: "permission_error",
    code: "missing_scope",
    message: `this API key lacks the '${scope}' scope`,
  });

type CallerMiddleware = MiddlewareHandler<{ Variables: { caller: Caller } }>;
type Security = readonly Readonly<Record<string, readonly string[]>>[];

/** The scope a route definition's `security` names (`requiresScope`); null when it names none. */
export function declaredScope(route: { security?: Security }): Scope | null {
  const names = (route.security ?? []).flatMap((r) => Object.values(r).flat());
  if (names.length > 1) throw new Error(`a route may require one scope, not ${names.join(", ")}`);
  return names.length === 0 ? null : Scope.parse(names[0]);
}

/** The scope check of a route definition: the scope its OpenAPI `security` states, enforced. */
export const routeScope = (route: { security?: Security }) => requireScope(declaredScope(route));

/**
 * Requires the authenticated key (`auth` runs first) to carry `scope`; 403 permission_error
 * `missing_scope` naming it otherwise. `null`: any valid key (catalog routes).
 */
export const requireScope = (
  scope: Scope | null,
): MiddlewareHandler<{ Variables: { caller: Caller } }> =>
  async function requireScope(c, next) {
    if (scope !== null && !hasScope(c.var.caller, scope)) throw missingScope(scope);
    await next();
  };

/**
 * The guard of a router's keyed routes, built once: `guard(route)` is the route's middleware that
 * authenticates the key, then enforces the scope the route's `security` declares.
 */
export function keyedRoutes(access: AuthOptions) {
  const requireKey = auth(access);
  return (route: { security?: Security }): [CallerMiddleware, CallerMiddleware] => [
    requireKey,
    routeScope(route),
  ];
}
