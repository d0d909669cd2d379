import { z } from "./zod.ts";

// POST/GET/DELETE /v1/keys (../shared/API.md, Auth).

export const SCOPES = [
  "generations:write",
  "generations:read",
  "usage:read",
  "projects:admin",
  "keys:admin",
] as const;
export const Scope = z.enum(SCOPES).openapi("Scope");
export type Scope = z.infer<typeof Scope>;

export const CreateKeyRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional().describe("A label shown in key lists."),
    mode: z
      .enum(["live", "test"])
      .optional()
      .describe("Default: the calling key's mode. A test key can only create test keys."),
    scopes: z
      .array(Scope)
      .min(1)
      .max(SCOPES.length)
      .optional()
      .describe("Default: the calling key's scopes. Never more than the calling key has."),
  })
  .openapi("CreateKeyRequest");
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

export const ApiKeyInfo = z
  .object({
    id: z.string(),
    object: z.literal("api_key"),
    name: z.string().nullable(),
    mode: z.enum(["live", "test"]),
    /** `gk_live_ab12`: enough to recognise a key, never to use it. */
    prefix: z.string(),
    scopes: z.array(Scope),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKey = ApiKeyInfo.extend({
  /** The key itself: shown this once, stored only hashed. */
  key: z.string(),
}).openapi("CreatedApiKey");

export const ApiKeyList = z
  .object({ object: z.literal("list"), data: z.array(ApiKeyInfo) })
  .openapi("ApiKeyList");
