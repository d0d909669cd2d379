// The one-range subset of HTTP Range (RFC 9110 §14.1.2) that asset caches send: `bytes=a-b`, `bytes=a-`
// and the suffix form `bytes=-n`.

export type RangeRequest =
  { kind: "none" } | { kind: "unsatisfiable" } | { kind: "range"; offset: number; length: number };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * The range to serve of an object of `size` bytes. A header that is absent, malformed or asks for
 * several ranges is ignored (the whole object is served, as the RFC allows).
 */
export function parseRange(header: string | undefined | null, size: number): RangeRequest {
  const m = header ? SINGLE.exec(header.trim()) : null;
  if (!m) return { kind: "none" };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "none" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "range", offset: size - length, length };
  }
  const offset = Number(first);
  if (last !== "" && Number(last) < offset) return { kind: "none" };
  if (offset >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Number(last);
  return { kind: "range", offset, length: Math.min(end, size - 1) - offset + 1 };
}

export const contentRange = (offset: number, length: number, size: number) =>
  `bytes ${offset}-${offset + length - 1}/${size}`;
