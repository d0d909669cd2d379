import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiKeyInfo, ApiKeyList, CreatedApiKey, CreateKeyRequest } from "../../contracts/keys.ts";
import type { z } from "../../contracts/zod.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../../db/queries/api-keys.ts";
import type { ApiKey } from "../../db/schema/api-keys.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { ApiError, notFound } from "../errors/index.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { grantedScopes, keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  idParams,
  jsonContent,
  jsonRequestBody,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";

const createKeyRoute = createRoute({
  operationId: "createKey",
  method: "post",
  path: "/",
  summary: "Create an API key",
  description:
    "The new key is in `key`, shown this once (only its hash is stored). A key never grants more than the key that created it: scopes outside the caller's are 403 `scope_not_held`, and a test key can only create test keys (403 `live_key_from_test_key`).",
  tags: ["Keys"],
  security: requiresScope("keys:admin"),
  request: { body: jsonRequestBody("CreateKeyRequest") },
  responses: {
    201: jsonContent(CreatedApiKey, "The key, with its secret."),
    ...errorResponses(400, 401, 403, 413),
  },
});

const listKeysRoute = createRoute({
  operationId: "listKeys",
  method: "get",
  path: "/",
  summary: "List API keys",
  description: "The account's keys, newest first (prefixes only), revoked ones included.",
  tags: ["Keys"],
  security: requiresScope("keys:admin"),
  responses: { 200: jsonContent(ApiKeyList, "The keys."), ...errorResponses(401, 403) },
});

const revokeKeyRoute = createRoute({
  operationId: "revokeKey",
  method: "delete",
  path: "/{id}",
  summary: "Revoke an API key",
  description:
    "Revoked keys answer 401 `revoked_api_key` (an edge that looked the key up in the last 30 s may still accept it until then). Revoking again changes nothing.",
  tags: ["Keys"],
  security: requiresScope("keys:admin"),
  request: { params: idParams("key_01jd9n2b3c4d5e6f7g8h9j0k1m") },
  responses: {
    200: jsonContent(ApiKeyInfo, "The revoked key."),
    ...errorResponses(401, 403, 404),
  },
});

export function toApiKey(row: ApiKey): z.infer<typeof ApiKeyInfo> {
  return {
    id: row.id,
    object: "api_key",
    name: row.name,
    mode: row.mode,
    prefix: row.prefix,
    scopes: grantedScopes(row.scopes),
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

/** POST/GET /v1/keys and DELETE /v1/keys/:id (scope keys:admin). */
export function keyRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  app.openAPIRegistry.register("CreateKeyRequest", CreateKeyRequest);

  app.openapi(
    {
      ...createKeyRoute,
      middleware: [
        ...guard(createKeyRoute),
        jsonBody({ schema: CreateKeyRequest, maxBytes: s.tuning.maxBodyBytes }),
      ] as const,
    },
    async (c) => {
      const { apiKey } = c.var.caller;
      const request = c.var.body;
      const held = grantedScopes(apiKey.scopes);
      const mode = request.mode ?? apiKey.mode;
      if (mode === "live" && apiKey.mode === "test") {
        throw new ApiError({
          type: "permission_error",
          code: "live_key_from_test_key",
          message: "a test key can only create test keys",
          param: "mode",
        });
      }
      const scopes = request.scopes ?? held;
      const wider = scopes.filter((scope) => !held.includes(scope));
      if (wider.length > 0) {
        throw new ApiError({
          type: "permission_error",
          code: "scope_not_held",
          message: `a key cannot grant scopes it does not have: ${wider.join(", ")}`,
          param: "scopes",
        });
      }
      const { key, record } = await createApiKey(
        s.db,
        {
          accountId: c.var.caller.account.id,
          mode,
          name: request.name,
          scopes: [...new Set(scopes)],
        },
        s.secrets.apiKeyPepper,
      );
      c.header("Cache-Control", "no-store");
      return c.json({ ...toApiKey(record), key }, 201);
    },
  );

  app.openapi({ ...listKeysRoute, middleware: guard(listKeysRoute) }, async (c) => {
    const rows = await listApiKeys(s.db, c.var.caller.account.id);
    return c.json({ object: "list" as const, data: rows.map(toApiKey) }, 200);
  });

  app.openapi({ ...revokeKeyRoute, middleware: guard(revokeKeyRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const row = await revokeApiKey(s.db, c.var.caller.account.id, id, new Date(s.clock()));
    if (!row) throw notFound(`no such key: ${id}`, "key_not_found");
    s.authenticator.forget(row.id);
    return c.json(toApiKey(row), 200);
  });

  return app;
}
