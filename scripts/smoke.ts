// `npm run smoke -- <edge url> [--key <api key>] [--timeout <seconds>]`: runs a generation through
// the public API of a deployed (or local) edge, fetches its image and checks the headers. Exit 0
// when every step passes, 1 on the first failure (named), 2 on bad usage. The key may also come
// from SMOKE_API_KEY (keeps it out of shell history); use a test-mode key (gk_test_: never charged).
import { parseArgs } from "node:util";
import { runSmoke, SmokeFailure } from "./smoke/smoke-checks.ts";

const USAGE = `usage: npm run smoke -- <edge url> [--key <api key>] [--timeout <seconds>]
  the key defaults to $SMOKE_API_KEY`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: "string" },
      timeout: { type: "string", default: "120" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const apiKey = values.key ?? process.env.SMOKE_API_KEY;
  const timeoutS = Number(values.timeout);
  const url = positionals[0];
  if (values.help || positionals.length !== 1 || !apiKey || !(timeoutS > 0)) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (!URL.canParse(url!) || !/^https?:$/.test(new URL(url!).protocol)) {
    console.error(`smoke: ${url} is not an http(s) URL\n${USAGE}`);
    return 2;
  }
  console.log(`smoke test of ${url}`);
  try {
    const { generation, ms } = await runSmoke({
      baseUrl: url!,
      apiKey,
      timeoutMs: timeoutS * 1000,
      onStep: (step, stepMs) => console.log(`  ok  ${step.padEnd(20)} ${Math.round(stepMs)} ms`),
    });
    console.log(
      `passed in ${(ms / 1000).toFixed(1)} s: ${generation.id} ran in ${generation.region}, ${generation.output!.bytes} bytes`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    console.error(`  FAIL ${error.message}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`smoke: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
