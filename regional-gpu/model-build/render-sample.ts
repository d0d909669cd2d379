import sharp from "sharp";
import { openReferencePipeline, rawInput, runCli, writePng } from "./sample-renderer.ts";

// Renders one prompt with the reference model to a PNG (docs, and eyeballing weight changes):
//   node regional-gpu/model-build/render-sample.ts "prompt" seed out.png [size, default 512]

const USAGE = 'usage: render-sample.ts "prompt" <seed uint32> <out.png> [size, default 512]';

runCli(async ([prompt, seedText, out, sizeText = "512"]) => {
  const seed = Number(seedText);
  const size = Number(sizeText);
  if (
    prompt === undefined ||
    out === undefined ||
    !Number.isInteger(seed) ||
    !Number.isInteger(size)
  ) {
    throw new Error(USAGE);
  }
  const renderer = await openReferencePipeline();
  try {
    const [image] = await renderer.pipeline.run([{ prompt, seed, width: size, height: size }]);
    await writePng(sharp(image!.data, rawInput(image!)), out);
    console.log(`${out}: "${prompt}" seed ${seed}, ${size}x${size}`);
  } finally {
    await renderer.close();
  }
});
