import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { z } from "zod";
import { RegionList } from "../contracts/region-protocol.ts";
import { withoutEdgeVariables } from "./local-stack/edge-vars.ts";

// Terraform -> edge in one command. Reads an environment's `region_map` output (`terraform output
// -json`, or a file holding that JSON), checks it against the edge's own RegionConfig schema plus
// what a deployment needs, and deploys the edge with it as the REGIONS var:
//
//   npm run deploy:edge -- production                 # terraform output -> wrangler deploy
//   npm run upload:edge -- staging -- --preview-alias pr-42
//                                                     # -> wrangler versions upload: a preview
//                                                     #    version, not serving traffic yet
//   node scripts/region-map.ts print staging          # just the REGIONS value
//   node scripts/region-map.ts deploy staging --from-file map.json -- --dry-run --outdir out

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const DeployEnvironment = z.enum(["staging", "production"]);
export type DeployEnvironment = z.infer<typeof DeployEnvironment>;

/** The edge's RegionList, restricted to what a deployed edge may route to. */
export const DeployedRegionMap = RegionList.superRefine((regions, ctx) => {
  const seen = new Set<string>();
  regions.forEach((region, i) => {
    if (!region.endpoint.startsWith("https://")) {
      ctx.addIssue({ code: "custom", path: [i, "endpoint"], message: "must be an https URL" });
    }
    if (region.rtt_ms !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [i, "rtt_ms"],
        message: "simulates latency locally only",
      });
    }
    if (seen.has(region.name)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `duplicate region ${region.name}`,
      });
    }
    seen.add(region.name);
  });
});
export type DeployedRegionMap = z.infer<typeof DeployedRegionMap>;

export class RegionMapError extends Error {
  readonly code = "invalid_region_map";
  override readonly name = "RegionMapError";
}

/** Parses `terraform output -json region_map` text; `source` names it in errors. */
export function parseRegionMap(text: string, source: string): DeployedRegionMap {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RegionMapError(`${source}: not JSON`);
  }
  const parsed = DeployedRegionMap.safeParse(json);
  if (!parsed.success) {
    throw new RegionMapError(
      `${source}: not a deployable region map\n${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

export const terraformEnvDir = (env: DeployEnvironment, root = ROOT): string =>
  join(root, "terraform", "envs", env);

/** Runs `terraform output -json region_map` in `dir` (initialised against its state backend). */
export async function readTerraformRegionMap(
  dir: string,
  terraform = "terraform",
): Promise<DeployedRegionMap> {
  const command = `terraform -chdir=${dir} output -json region_map`;
  try {
    const { stdout } = await promisify(execFile)(
      terraform,
      [`-chdir=${dir}`, "output", "-no-color", "-json", "region_map"],
      { maxBuffer: 1 << 20 },
    );
    return parseRegionMap(stdout, command);
  } catch (err) {
    if (err instanceof RegionMapError) throw err;
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new RegionMapError(`${command} failed: ${detail}`);
  }
}

/** The REGIONS var as the edge reads it: compact JSON. */
export const regionsVar = (regions: DeployedRegionMap): string => JSON.stringify(regions);

/** Arguments of `wrangler deploy` for `env` with REGIONS set; `extra` is appended unchanged. */
export function wranglerDeployArgs(
  env: DeployEnvironment,
  regions: DeployedRegionMap,
  extra: readonly string[] = [],
): string[] {
  return ["deploy", "--env", env, "--var", `REGIONS:${regionsVar(regions)}`, ...extra];
}

/**
 * Arguments of `wrangler versions upload` for `env` with REGIONS set: a new version with its own
 * preview URL, serving no traffic until `wrangler versions deploy` promotes it.
 */
export function wranglerUploadArgs(
  env: DeployEnvironment,
  regions: DeployedRegionMap,
  extra: readonly string[] = [],
): string[] {
  return ["versions", "upload", ...wranglerDeployArgs(env, regions, extra).slice(1)];
}

/**
 * wrangler's environment for a deploy or upload: the caller's, without the edge's variable names. A
 * DATABASE_URL exported for `npm run db:migrate` (Neon's direct URL) would otherwise take precedence
 * over the one in a `--secrets-file`.
 */
export const wranglerEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => withoutEdgeVariables(env);

const USAGE = `usage: node scripts/region-map.ts <print|deploy|upload> <staging|production> [--from-file <file>] [-- <wrangler args>]`;

const Command = z.enum(["print", "deploy", "upload"]);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "from-file": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  // Everything after `--` goes to wrangler untouched (parseArgs also lists it among positionals).
  const dashDash = argv.indexOf("--");
  const extra = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  const [command, env] = positionals;
  const parsedCommand = Command.safeParse(command);
  const parsedEnv = DeployEnvironment.safeParse(env);
  const unexpected = positionals.length !== 2 + extra.length;
  if (values.help || unexpected || !parsedCommand.success || !parsedEnv.success) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const file = values["from-file"];
  const regions = file
    ? parseRegionMap(await readFile(file, "utf8"), file)
    : await readTerraformRegionMap(terraformEnvDir(parsedEnv.data));
  if (parsedCommand.data === "print") {
    process.stdout.write(`${regionsVar(regions)}\n`);
    return 0;
  }
  const upload = parsedCommand.data === "upload";
  const args = (upload ? wranglerUploadArgs : wranglerDeployArgs)(parsedEnv.data, regions, extra);
  process.stderr.write(
    `${upload ? "uploading a version of" : "deploying"} the ${parsedEnv.data} edge with ${regions.length} regions: ${regions.map((r) => r.name).join(", ")}\n`,
  );
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  const child = spawn(wrangler, args, {
    cwd: ROOT,
    stdio: "inherit",
    env: wranglerEnv(process.env),
  });
  return new Promise((done, fail) => {
    child.on("error", fail);
    child.on("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`region-map: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
