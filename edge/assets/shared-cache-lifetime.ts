/**
 * Seconds a shared cache may keep a response, as the Workers cache decides it: `s-maxage`, else
 * `max-age`; nothing `private`, `no-store` or `no-cache`, nothing but a 200 to a GET. Null: do not
 * keep it. The caches of the Node (in memory) and Deno (Cache API) entries follow it.
 */
export function sharedCacheSeconds(method: string, response: Response): number | null {
  if (method !== "GET" || response.status !== 200) return null;
  const cc = response.headers.get("cache-control") ?? "";
  if (/\b(?:no-store|no-cache|private)\b/i.test(cc)) return null;
  const maxAge = /\bs-maxage=(\d+)/i.exec(cc)?.[1] ?? /\bmax-age=(\d+)/i.exec(cc)?.[1];
  const seconds = maxAge === undefined ? 0 : Number(maxAge);
  return seconds > 0 ? seconds : null;
}
