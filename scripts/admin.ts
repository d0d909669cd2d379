// `npm run admin -- <command> [options]`: accounts and API keys. Each created key is printed once.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { AdminError } from "./admin/admin-error.ts";
import { AdminCommand } from "./admin/commands.ts";
import { printModels } from "./admin/model-commands.ts";
import { runAgainstDatabase, runAgainstStack } from "./admin/transport.ts";
import { readRunningStack } from "./local-stack/stack-file.ts";

const USAGE = `usage: npm run admin -- <command> [options]

  create-account --name <name> [--plan free|pro|enterprise] [--email <email>] [--test]
  create-key     --account <acct_id> [--name <label>] [--test]
  list-keys      --account <acct_id>
  revoke-key     --account <acct_id> --key <key_id>
  reviews list                      outputs hidden by reports, oldest first
  reviews approve <gen_id> [--reviewer <name>] [--note <text>]   visible again
  reviews remove  <gen_id> [--reviewer <name>] [--note <text>]   bytes deleted everywhere
  models [list]  models with versions, rollout state, traffic share, metrics, rollout history
  models evaluate                 one pass of the rollout controller (promote / roll back)
  models canary|ramp --model <name> --version <v> --share <0..1> [--force] [--reason <text>]
  models promote|rollback|retire|restore --model <name> --version <v> [--force] [--reason <text>]

  --json   print the result as JSON

Database: DATABASE_URL when set (API_KEY_PEPPER must match the edge's); otherwise the local stack
in DATA_DIR (default .data): through the running stack (\`npm start\`, \`npm run dev:worker\`,
\`npm run dev:deno\`), or its PGlite folder directly.`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      email: { type: "string" },
      account: { type: "string" },
      key: { type: "string" },
      reviewer: { type: "string" },
      note: { type: "string" },
      model: { type: "string" },
      version: { type: "string" },
      share: { type: "string" },
      reason: { type: "string" },
      force: { type: "boolean" },
      test: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const reviews = positionals[0] === "reviews";
  // `models` takes an optional action: `models`, `models list`, `models promote`, ...
  const expected = positionals[0] === "models" ? [1, 2] : [1];
  if (values.help || (reviews ? positionals.length < 2 : !expected.includes(positionals.length))) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const { test, json, help: _help, ...rest } = values;
  const dataDir = resolve(process.env.DATA_DIR ?? ".data");
  const stack = process.env.DATABASE_URL ? null : await readRunningStack(dataDir);
  const command = AdminCommand.parse(
    reviews
      ? {
          command: "reviews",
          action: positionals[1],
          generation: positionals[2],
          reviewer: rest.reviewer ?? process.env.USER,
          note: rest.note,
          // A running edge purges removed outputs on its next sweep: wait to report it.
          wait: stack || process.env.DATABASE_URL ? 30 : 0,
        }
      : {
          command: positionals[0],
          ...(positionals[1] === undefined ? {} : { action: positionals[1] }),
          ...rest,
          ...(test ? { mode: "test" } : {}),
        },
  );
  const result = stack
    ? await runAgainstStack(stack, command)
    : await runAgainstDatabase(command, { dataDir, databaseUrl: process.env.DATABASE_URL });
  if (json) console.log(JSON.stringify(result, null, 2));
  else printHuman(result);
  return 0;
}

function printHuman(result: Record<string, unknown>): void {
  printModels(result, (line) => console.log(line));
  const account = result.account as { id: string; name: string; plan: string } | undefined;
  if (account) console.log(`account  ${account.id}  "${account.name}"  plan ${account.plan}`);
  if (typeof result.key === "string") {
    console.log(`api key  ${result.key}`);
    console.log("         (shown once: it is stored only hashed)");
  }
  const keys = result.keys as
    { id: string; prefix: string; revoked_at: string | null }[] | undefined;
  for (const k of keys ?? [])
    console.log(`${k.id}  ${k.prefix}...  ${k.revoked_at ? `revoked ${k.revoked_at}` : "active"}`);
  const queue = result.reviews as Record<string, unknown>[] | undefined;
  if (queue) {
    if (queue.length === 0) console.log("no outputs pending review");
    for (const r of queue)
      console.log(
        `${String(r.generation)}  opened ${String(r.opened_at)}  ${String(r.reports)} reports (${(r.reasons as string[]).join(", ")})  "${String(r.prompt).slice(0, 60)}"`,
      );
  }
  if (typeof result.decision === "string") {
    console.log(`${result.decision}: ${(result.generations as string[]).join(", ")}`);
    if (result.purge) console.log(`purge: ${String(result.purge)}`);
  }
  if (result.revoked_at)
    console.log(`revoked ${String(result.key_id)} at ${String(result.revoked_at)}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ZodError) {
      const issue = error.issues[0];
      console.error(`error: ${issue?.path.join(".") || "command"}: ${issue?.message}\n\n${USAGE}`);
    } else if (error instanceof AdminError) console.error(`error: ${error.message}`);
    else console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
