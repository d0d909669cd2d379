import { z } from "zod";

/** Thrown for a cursor this code did not issue; the API answers 400 invalid_request_error. */
export class InvalidCursorError extends Error {
  readonly code = "invalid_cursor";
  constructor() {
    super("cursor is not one this API returned");
    this.name = "InvalidCursorError";
  }
}

/** Position after the last row of a page ordered by (created_at desc, id desc). */
export const Keyset = z.object({ createdAt: z.date(), id: z.string().min(1).max(64) });
export type Keyset = z.infer<typeof Keyset>;

/** The largest time a Date holds (ECMA-262: 8.64e15 ms either side of the epoch). */
const MAX_DATE_MS = 8.64e15;
const Encoded = z.tuple([z.number().int().min(0).max(MAX_DATE_MS), z.string().min(1).max(64)]);

// Opaque to clients: base64url of ASCII JSON (btoa/atob, so it runs on Workers without Buffer).
export function encodeCursor({ createdAt, id }: Keyset): string {
  const json = JSON.stringify([createdAt.getTime(), id]);
  return btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): Keyset {
  try {
    const json = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const [ms, id] = Encoded.parse(JSON.parse(json));
    return { createdAt: new Date(ms), id };
  } catch {
    throw new InvalidCursorError();
  }
}
