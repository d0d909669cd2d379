/**
 * An error as one log-safe string: drizzle's "Failed query" errors carry the bound parameters
 * (prompts, key hashes), which must never reach the logs; the cause chain is kept.
 */
export function describeError(err: unknown, maxChars = 2_000): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error) {
      const message = current.message.replace(/\nparams:[\s\S]*$/, "");
      const frames = current.stack?.split("\n").filter((line) => /^\s+at /.test(line)) ?? [];
      parts.push([`${current.name}: ${message}`, ...frames.slice(0, 8)].join("\n"));
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join("\ncaused by: ").slice(0, maxChars);
}
