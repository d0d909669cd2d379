import type { Context } from "hono";

/**
 * Sets headers on the finished response (after `next()`), in place: `c.header()` there would make
 * Hono rebuild the response around its body stream, which @hono/node-server then streams instead
 * of writing the bytes at once. A Response from fetch() or the Cache API has immutable headers on
 * Workers: that one is copied first.
 */
export function setFinalHeaders(c: Context, apply: (headers: Headers) => void): void {
  try {
    apply(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    apply(c.res.headers);
  }
}
