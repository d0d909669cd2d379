import sharp from "sharp";
import { openReferencePipeline, rawInput, runCli, writePng } from "./sample-renderer.ts";

// Renders several prompts side by side (2x2 for four) to one PNG, for the README:
//   node regional-gpu/model-build/render-grid.ts <out.png> <seed> <tile size> "prompt" "prompt" ...

const USAGE = 'usage: render-grid.ts <out.png> <seed uint32> <tile size> "prompt" ["prompt" ...]';
const GAP = 8;

runCli(async ([out, seedText, sizeText, ...prompts]) => {
  const seed = Number(seedText);
  const size = Number(sizeText);
  if (out === undefined || !Number.isInteger(seed) || !Number.isInteger(size) || !prompts.length) {
    throw new Error(USAGE);
  }
  const columns = Math.ceil(Math.sqrt(prompts.length));
  const rows = Math.ceil(prompts.length / columns);
  const renderer = await openReferencePipeline();
  try {
    const images = await renderer.pipeline.run(
      prompts.map((prompt) => ({ prompt, seed, width: size, height: size })),
    );
    const tiles = await Promise.all(
      images.map(async (image, i) => ({
        input: await sharp(image.data, rawInput(image)).png().toBuffer(),
        left: GAP + (i % columns) * (size + GAP),
        top: GAP + Math.floor(i / columns) * (size + GAP),
      })),
    );
    const canvas = sharp({
      create: {
        width: GAP + columns * (size + GAP),
        height: GAP + rows * (size + GAP),
        channels: 3,
        background: "#ffffff",
      },
    }).composite(tiles);
    await writePng(canvas, out);
    prompts.forEach((p, i) => console.log(`tile ${i + 1}: "${p}"`));
    console.log(`${out}: ${prompts.length} prompts, seed ${seed}, ${size}x${size} tiles`);
  } finally {
    await renderer.close();
  }
});
