import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { ErrorBody } from "../../contracts/errors.ts";
import type { AppEnv } from "../app-env.ts";
import { describeError } from "../lib/describe-error.ts";
import type { Log } from "../lib/log.ts";
import { ApiError } from "./api-error.ts";

export function errorBody(err: ApiError, requestId: string | undefined): ErrorBody {
  return {
    error: {
      type: err.type,
      code: err.code,
      message: err.message,
      ...(err.param !== undefined && { param: err.param }),
      ...(err.categories !== undefined && { categories: err.categories }),
      ...(err.matches !== undefined && { matches: err.matches }),
      ...(err.generation !== undefined && { generation: err.generation }),
      ...(requestId !== undefined && { request_id: requestId }),
    },
  };
}

function respond(c: Context<AppEnv>, err: ApiError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  // Error bodies are never cached by anyone in between.
  c.header("Cache-Control", "no-store");
  return c.json(errorBody(err, c.get("requestId")), err.status as 400);
}

/** The app's one onError: a typed ApiError becomes its envelope; anything else is a bug (500). */
export const errorHandler =
  (log: Log): ErrorHandler<AppEnv> =>
  (err, c) => {
    if (err instanceof ApiError) {
      if (err.status >= 500) {
        log({
          level: "error",
          msg: "request failed",
          code: err.code,
          request_id: c.get("requestId"),
        });
      }
      return respond(c, err);
    }
    log({
      level: "error",
      msg: "unhandled error",
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error: describeError(err),
    });
    return respond(
      c,
      new ApiError({ type: "api_error", code: "internal_error", message: "internal error" }),
    );
  };

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  respond(
    c,
    new ApiError({
      type: "not_found_error",
      code: "route_not_found",
      message: `no route for ${c.req.method} ${c.req.path}`,
    }),
  );
