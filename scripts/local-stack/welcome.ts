import type { LocalRegion } from "./stack-config.ts";

export function printWelcome(opts: {
  edgeUrl: string;
  apiKey: string;
  accountId: string;
  regions: LocalRegion[];
}): void {
  const { edgeUrl, apiKey } = opts;
  const lines = [
    "",
    `genart-edge local stack is up: ${edgeUrl}`,
    "",
    "  regions:",
    ...opts.regions.map(
      (r) =>
        `    ${r.config.name.padEnd(13)} ${r.config.endpoint}  (lat ${r.config.lat}, lon ${r.config.lon})`,
    ),
    "",
    `  development account ${opts.accountId} (plan pro), API key:`,
    `    ${apiKey}`,
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

/** The edge's JSON log lines at or above the stack's LOG_LEVEL (default warn: a quiet console). */
export function stackLog(level: (typeof LEVELS)[number]): (entry: Record<string, unknown>) => void {
  const min = LEVELS.indexOf(level);
  return (entry) => {
    const at = LEVELS.indexOf((entry.level as (typeof LEVELS)[number]) ?? "info");
    if (at >= min)
      console.log(JSON.stringify({ time: new Date().toISOString(), service: "edge", ...entry }));
  };
}
