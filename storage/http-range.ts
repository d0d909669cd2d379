// The one-range subset of HTTP Range (RFC 9110 §14.1.2) and If-None-Match, shared by every server of
// stored objects: the edge's asset route and the regions' object route.

export type RangeChoice =
  | { kind: "full" }
  | { kind: "partial"; offset: number; length: number }
  | { kind: "unsatisfiable" };

/**
 * One `bytes=` range of RFC 9110 against an object of `size` bytes. Anything this does not serve
 * (another unit, several ranges, bad syntax) falls back to the full body, as the RFC allows.
 */
export function chooseRange(header: string | null | undefined, size: number): RangeChoice {
  if (!header) return { kind: "full" };
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!m) return { kind: "full" };
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const offset = Number(first);
  if (last !== "" && Number(last) < offset) return { kind: "full" };
  if (offset >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", offset, length: end - offset + 1 };
}

/** RFC 9110 weak comparison of If-None-Match against one strong ETag. */
export function etagMatches(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}

export const contentRange = (offset: number, length: number, size: number) =>
  `bytes ${offset}-${offset + length - 1}/${size}`;
