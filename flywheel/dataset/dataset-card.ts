import type { DatasetManifest } from "./format.ts";

/** The dataset card (README.md of the folder): what is in it, from where, filtered how. */
export function datasetCard(m: Omit<DatasetManifest, "files">): string {
  const c = m.counts;
  return `# Preference dataset ${m.id.slice(0, 16)} (${m.model})

Format \`${m.format}\`: \`pairs.jsonl\` (prompt, chosen, rejected, label; the Diffusion-DPO /
Pick-a-Pic shape), \`likes.jsonl\`, \`images/\` (PNG, named by sha256), \`manifest.json\` (every
file with its sha256; \`id\` hashes them). Written by \`npm run flywheel -- curate\`; the same
database state gives the same files.

| | |
| --- | --- |
| outputs scored | ${c.generations_scored} |
| preference pairs | ${c.pairs} |
| ties dropped | ${c.ties_dropped} |
| liked outputs | ${c.likes} |
| images | ${c.images} |
| signals counted / excluded | ${c.votes_counted} / ${c.votes_excluded} |
| outputs created | ${m.date_range.from ?? "-"} to ${m.date_range.to ?? "-"} |

## Score

${Object.entries(m.scoring)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join("\n")}

(each vote or refine times its giver's fraud weight; downloads by accounts other than the owner)

## Filters

${m.filters.map((f) => `- ${f}`).join("\n")}
`;
}
