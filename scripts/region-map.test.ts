import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegionList } from "../contracts/region-protocol.ts";
import {
  parseRegionMap,
  readTerraformRegionMap,
  RegionMapError,
  regionsVar,
  terraformEnvDir,
  wranglerDeployArgs,
  wranglerEnv,
  wranglerUploadArgs,
  type DeployedRegionMap,
} from "./region-map.ts";

// The fixtures are the region maps the environments' `terraform test` runs prove equal to their
// `region_map` output, so these tests hold the Terraform side and the edge side to one shape.
const fixture = (env: "staging" | "production") =>
  join(terraformEnvDir(env), "tests", "fixtures", "region_map.json");

const hasTerraform = (() => {
  try {
    execFileSync("terraform", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const usEast = {
  name: "us-east",
  endpoint: "https://us-east.regions.genart.example",
  lat: 39,
  lon: -77.5,
};
const text = (value: unknown) => JSON.stringify(value);

describe("parseRegionMap", () => {
  it.each(["staging", "production"] as const)(
    "accepts the %s fixture as the edge's RegionList",
    async (env) => {
      const regions = parseRegionMap(await readFile(fixture(env), "utf8"), env);
      expect(regions.map((r) => r.name)).toEqual(["us-east", "eu-west", "ap-southeast"]);
      expect(RegionList.parse(regions)).toEqual(regions);
    },
  );

  it.each([
    [
      "an http endpoint",
      [{ ...usEast, endpoint: "http://us-east.regions.genart.example" }],
      "https",
    ],
    ["a duplicate name", [usEast, { ...usEast, lat: 40 }], "duplicate region us-east"],
    ["a simulated RTT", [{ ...usEast, rtt_ms: 80 }], "locally only"],
    ["a latitude out of range", [{ ...usEast, lat: 91 }], "lat"],
    ["a missing longitude", [{ name: "us-east", endpoint: usEast.endpoint, lat: 39 }], "lon"],
    ["an empty list", [], ">=1 items"],
    ["an object instead of a list", { "us-east": usEast }, "array"],
  ])("rejects %s", (_, value, message) => {
    expect(() => parseRegionMap(text(value), "map.json")).toThrow(RegionMapError);
    expect(() => parseRegionMap(text(value), "map.json")).toThrow(message);
  });

  it("rejects text that is not JSON, naming its source", () => {
    expect(() => parseRegionMap("No outputs found", "terraform output")).toThrow(
      "terraform output: not JSON",
    );
  });
});

describe("wranglerDeployArgs", () => {
  it("passes the map as the REGIONS var of the environment, extra arguments last", () => {
    const regions: DeployedRegionMap = [usEast];
    const args = wranglerDeployArgs("production", regions, ["--dry-run"]);
    expect(args.slice(0, 4)).toEqual(["deploy", "--env", "production", "--var"]);
    expect(args.at(-1)).toBe("--dry-run");
    // wrangler splits a --var at its first colon: the name, then the JSON with its own colons intact.
    const [name, ...rest] = args[4]!.split(":");
    expect(name).toBe("REGIONS");
    expect(JSON.parse(rest.join(":"))).toEqual(regions);
    expect(regionsVar(regions)).toBe(rest.join(":"));
  });
});

describe("wranglerUploadArgs", () => {
  it("uploads a version of the environment with the same REGIONS var, extra arguments last", () => {
    const regions: DeployedRegionMap = [usEast];
    const args = wranglerUploadArgs("staging", regions, ["--preview-alias", "pr-42"]);
    expect(args).toEqual([
      "versions",
      "upload",
      "--env",
      "staging",
      "--var",
      `REGIONS:${regionsVar(regions)}`,
      "--preview-alias",
      "pr-42",
    ]);
  });
});

describe("wranglerEnv", () => {
  it("keeps the caller's environment but none of the edge's variables", () => {
    const env = wranglerEnv({
      PATH: "/usr/bin",
      CLOUDFLARE_API_TOKEN: "token",
      DATABASE_URL: "postgresql://direct.example/db",
      API_KEY_PEPPER: "pepper",
    });
    expect(env).toEqual({ PATH: "/usr/bin", CLOUDFLARE_API_TOKEN: "token" });
  });
});

describe.skipIf(!hasTerraform)("readTerraformRegionMap (real terraform, local state)", () => {
  let dir: string;
  // Terraform's state records each output's type; this one is a tuple of flat objects.
  const ctyType = (value: unknown): unknown =>
    Array.isArray(value)
      ? ["tuple", value.map(ctyType)]
      : typeof value === "object" && value !== null
        ? ["object", Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ctyType(v)]))]
        : typeof value;
  const state = (value: unknown) =>
    text({
      version: 4,
      terraform_version: "1.11.4",
      serial: 1,
      lineage: "5f1d8a9e-0000-4000-8000-000000000001",
      outputs: { region_map: { value, type: ctyType(value) } },
      resources: [],
      check_results: null,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "region-map-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads `terraform output -json region_map`", async () => {
    const expected = JSON.parse(await readFile(fixture("production"), "utf8")) as unknown;
    await writeFile(join(dir, "terraform.tfstate"), state(expected));
    await expect(readTerraformRegionMap(dir)).resolves.toEqual(expected);
  });

  it("refuses an output the edge could not route to", async () => {
    await writeFile(join(dir, "terraform.tfstate"), state([{ ...usEast, endpoint: "http://x" }]));
    await expect(readTerraformRegionMap(dir)).rejects.toThrow("must be an https URL");
  });

  it("reports terraform's own error when there is no such output", async () => {
    await writeFile(join(dir, "terraform.tfstate"), text({ version: 4, serial: 1, outputs: {} }));
    await expect(readTerraformRegionMap(dir)).rejects.toThrow(
      /output -json region_map failed: .*not found/s,
    );
  });
});

describe("command line", () => {
  const script = fileURLToPath(new URL("./region-map.ts", import.meta.url));
  const cli = (args: string[]) => promisify(execFile)(process.execPath, [script, ...args]);

  it("prints the REGIONS value of a region map file", async () => {
    const { stdout } = await cli(["print", "staging", "--from-file", fixture("staging")]);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(await readFile(fixture("staging"), "utf8")));
  });

  it("exits 1 naming the file when the map is not deployable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "region-map-"));
    const file = join(dir, "map.json");
    await writeFile(file, text([{ ...usEast, endpoint: "http://x" }]));
    await expect(cli(["print", "staging", "--from-file", file])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${file}: not a deployable region map`),
    });
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["an unknown environment", ["print", "qa"]],
    ["wrangler arguments without --", ["deploy", "staging", "--from-file", "x.json", "extra"]],
  ])("exits 2 with usage on %s", async (_, args) => {
    await expect(cli(args)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("usage:"),
    });
  });
});
