import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { issueToApiError } from "../validation/index.ts";

/**
 * A router whose routes are zod definitions (`createRoute`): they validate params and queries and
 * make up /openapi.json. A failed validation is the same 400 envelope as everywhere else.
 */
export const openApiRouter = (): OpenAPIHono<AppEnv> =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw issueToApiError(result.error.issues[0]!);
    },
  });
