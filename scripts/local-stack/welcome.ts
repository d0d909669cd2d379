import type { LocalRegion } from "./stack-config.ts";

export function printWelcome(opts: {
  edgeUrl: string;
  /** What serves the edge: "Node", "wrangler dev (workerd)". */
  runtime: string;
  apiKey: string;
  accountId: string;
  regions: LocalRegion[];
}): void {
  const { edgeUrl, apiKey } = opts;
  const lines = [
    "",
    `genart-edge local stack is up: ${edgeUrl}`,
    "",
    `  edge:  ${opts.runtime}`,
    "",
    "  regions:",
    ...opts.regions.map(
      (r) =>
        `    ${r.config.name.padEnd(13)} ${r.config.endpoint}  (lat ${r.config.lat}, lon ${r.config.lon})`,
    ),
    "",
    `  development account ${opts.accountId} (plan pro), API key (test mode: never charged):`,
    `    ${apiKey}`,
    "",
    `  playground: ${edgeUrl}/   usage dashboard: ${edgeUrl}/dashboard   API reference: ${edgeUrl}/docs`,
    `  a live key (its work is priced and shows in the dashboard's spend):`,
    `    npm run admin -- create-key --account ${opts.accountId} --name live`,
    "",
    "  try it:",
    `    curl -s ${edgeUrl}/v1/generations \\`,
    `      -H "Authorization: Bearer ${apiKey}" \\`,
    `      -H "Content-Type: application/json" -H "Prefer: wait=30" \\`,
    `      -d '{"prompt":"a quiet harbour at dawn, teal and amber","seed":42}'`,
    "",
    '  then fetch output.url (a signed link): curl -s -o image.png "<output.url>"',
    '  more accounts and keys: npm run admin -- create-account --name "Acme" --plan pro',
    "",
    "Ctrl-C stops everything.",
  ];
  console.log(lines.join("\n"));
}

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
type Level = (typeof LEVELS)[number];

/** Whether an entry of `entryLevel` (default info) is shown at the stack's LOG_LEVEL `min`. */
const shown = (entryLevel: unknown, min: Level) =>
  LEVELS.indexOf((entryLevel as Level | undefined) ?? "info") >= LEVELS.indexOf(min);

/** The edge's JSON log lines at or above the stack's LOG_LEVEL (default warn: a quiet console). */
export function stackLog(level: Level): (entry: Record<string, unknown>) => void {
  return (entry) => {
    if (shown(entry.level, level))
      console.log(JSON.stringify({ time: new Date().toISOString(), service: "edge", ...entry }));
  };
}

/**
 * The same rule for the lines of an edge running as a child process (the Worker under wrangler
 * dev, the Deno edge): JSON lines by their `level`, wrangler's own by their `[wrangler:<level>]`
 * tag; anything else (start-up banners, the bindings table) is kept.
 */
export function logLineFilter(level: Level): (line: string) => boolean {
  return (line) => {
    const tagged = /^\[[\w-]+:(debug|info|log|warn|error)\]/.exec(line)?.[1];
    if (tagged) return shown(tagged === "log" ? "info" : tagged, level);
    if (!line.startsWith("{")) return line.trim() !== "";
    try {
      return shown((JSON.parse(line) as { level?: unknown }).level, level);
    } catch {
      return true;
    }
  };
}
