import type { StyleCursor } from "../../storage/style-index/style-index.ts";
import { invalidRequest } from "../errors/index.ts";
import { canonicalJson } from "../lib/canonical-json.ts";
import { sha256Hex } from "../lib/digest.ts";

// Search pages are keyset cursors: where the last page ended in (distance, id) order, bound to the
// query that made them, so a cursor replayed with another query is refused instead of answering
// a page of something else.

const invalid = () =>
  invalidRequest("invalid_cursor", "cursor is not one this search issued", "cursor");

/** A short digest of everything that defines the result list (not the page size). */
export async function queryFingerprint(query: unknown): Promise<string> {
  return (await sha256Hex(canonicalJson(query))).slice(0, 16);
}

export function encodeCursor(at: StyleCursor, fingerprint: string): string {
  const json = JSON.stringify({ d: at.distance, i: at.id, q: fingerprint });
  return btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string, fingerprint: string): StyleCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    throw invalid();
  }
  const { d, i, q } = (parsed ?? {}) as { d?: unknown; i?: unknown; q?: unknown };
  if (typeof d !== "number" || !Number.isFinite(d) || typeof i !== "string" || q !== fingerprint) {
    throw invalid();
  }
  return { distance: d, id: i };
}
