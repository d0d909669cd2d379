import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  LifecycleConfig,
  LifecycleEnvironment,
  toR2LifecyclePolicy,
  wranglerLifecycleCommand,
} from "../edge/r2-lifecycle/index.ts";

// Applies edge/r2-lifecycle/r2-lifecycle.json to an environment's asset bucket with wrangler:
//
//   node scripts/apply-r2-lifecycle.ts production            # replaces the bucket's rules
//   node scripts/apply-r2-lifecycle.ts staging --dry-run     # prints the command and the policy

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const RULES_FILE = join(ROOT, "edge/r2-lifecycle/r2-lifecycle.json");

export function loadLifecycleConfig(file = RULES_FILE): LifecycleConfig {
  return LifecycleConfig.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** The commands `main` runs, in order (one per environment asked for). */
export function planLifecycleApply(
  config: LifecycleConfig,
  envs: LifecycleEnvironment[],
  policyFile: string,
): string[][] {
  return envs.map((env) => wranglerLifecycleCommand(config, env, policyFile));
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "dry-run": { type: "boolean", default: false }, file: { type: "string" } },
  });
  if (positionals.length === 0) {
    console.error("usage: apply-r2-lifecycle.ts <development|staging|production>... [--dry-run]");
    return 2;
  }
  const envs = positionals.map((p) => LifecycleEnvironment.parse(p));
  const config = loadLifecycleConfig(values.file ?? RULES_FILE);
  const policy = JSON.stringify(toR2LifecyclePolicy(config), null, 2);
  const dir = mkdtempSync(join(tmpdir(), "r2-lifecycle-"));
  const policyFile = join(dir, "lifecycle.json");
  try {
    writeFileSync(policyFile, policy);
    for (const command of planLifecycleApply(config, envs, policyFile)) {
      console.log(`$ npx ${command.join(" ")}`);
      if (values["dry-run"]) continue;
      const [bin, ...args] = command;
      const done = spawnSync(join(ROOT, "node_modules/.bin", bin!), args, {
        cwd: ROOT,
        stdio: "inherit",
      });
      if (done.status !== 0) return done.status ?? 1;
    }
    if (values["dry-run"]) console.log(`# ${policyFile}:\n${policy}`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)));
