import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import {
  DEFAULT_MAX_BODY_BYTES,
  parseJson,
  parseOrThrow,
  readBodyText,
} from "../../validation/index.ts";

export interface JsonBodyOptions<S extends z.ZodType> {
  schema: S;
  maxBytes?: number;
  /** An empty body reads as `{}` (a body whose every field is optional). */
  emptyIsObject?: boolean;
}

export type JsonBodyEnv<S extends z.ZodType> = {
  Variables: { body: z.output<S> };
};

/**
 * Reads (bounded: 413), parses (400 invalid_json) and validates (400 with `param`) the JSON body,
 * leaving the typed value in `c.var.body`.
 */
export const jsonBody = <S extends z.ZodType>(
  opts: JsonBodyOptions<S>,
): MiddlewareHandler<JsonBodyEnv<S>> => {
  const { schema } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async function jsonBody(c, next) {
    const text = await readBodyText(c.req.raw, maxBytes);
    const empty = opts.emptyIsObject && text.trim() === "";
    c.set("body", parseOrThrow(schema, empty ? {} : parseJson(text)));
    await next();
  };
};
