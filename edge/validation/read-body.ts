import { ApiError, invalidRequest } from "../errors/index.ts";

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const tooLarge = (maxBytes: number) =>
  new ApiError({
    type: "invalid_request_error",
    code: "body_too_large",
    message: `request body must be at most ${maxBytes} bytes`,
    status: 413,
  });

/**
 * Reads the body as UTF-8 text, refusing more than `maxBytes` (413) before buffering it: the
 * declared Content-Length is checked first, then the stream is counted (chunked bodies have none).
 */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (req.body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidRequest("invalid_json", "request body is not valid UTF-8");
  }
}

/** JSON.parse with the 400 envelope of API.md for anything that is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw invalidRequest("invalid_json", "request body must be JSON");
  try {
    return JSON.parse(text);
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message}` : "";
    throw invalidRequest("invalid_json", `request body is not valid JSON${detail}`);
  }
}
