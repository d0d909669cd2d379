import { join } from "node:path";
import sharp from "sharp";
import type { RawImage } from "../pipelines/pipeline.ts";
import { STYLE_MODEL_VERSION } from "./build-reference-model.ts";
import { openReferencePipeline, rawInput, runCli, writePng } from "./sample-renderer.ts";

// The README's style and upscale images, drawn by the style-capable reference model exactly as a
// region draws them for the API calls shown there:
//   node regional-gpu/model-build/render-style-samples.ts [out dir, default docs/images]
// style-reference.png  "golden desert dunes", seed 7
// style-none.png       "green mossy forest", seed 3, no style
// style-0.3.png        the same with style { reference, strength: 0.3 }
// style-0.7.png        the same with style { reference, strength: 0.7 }
// upscale-detail.png   the busiest 64 x 64 of a 256 x 256 output: its pixels enlarged 4x (left)
//                      and the same region of the 4x upscale, which re-draws it (right)

const SIDE = 256;
const REFERENCE = { prompt: "golden desert dunes", seed: 7 };
const SUBJECT = { prompt: "green mossy forest", seed: 3 };
const UPSCALED = { prompt: "neon city at night", seed: 42 };

const png = (image: RawImage) => sharp(image.data, rawInput(image));

/** Top-left corner of the `size` x `size` window (on a 32-pixel grid) with the most detail. */
function busiestWindow(image: RawImage, size: number): { left: number; top: number } {
  let best = { left: 0, top: 0, detail: -1 };
  const at = (x: number, y: number, c: number) => image.data[(y * image.width + x) * 3 + c]!;
  for (let top = 0; top + size <= image.height; top += 32) {
    for (let left = 0; left + size <= image.width; left += 32) {
      let detail = 0;
      for (let y = top; y < top + size - 1; y++) {
        for (let x = left; x < left + size - 1; x++) {
          for (let c = 0; c < 3; c++) {
            detail +=
              Math.abs(at(x + 1, y, c) - at(x, y, c)) + Math.abs(at(x, y + 1, c) - at(x, y, c));
          }
        }
      }
      if (detail > best.detail) best = { left, top, detail };
    }
  }
  return best;
}

runCli(async ([outDir = "docs/images"]) => {
  const renderer = await openReferencePipeline(STYLE_MODEL_VERSION);
  try {
    const draw = (r: { prompt: string; seed: number }, extra = {}, side = SIDE) =>
      renderer.pipeline
        .run([{ ...r, width: side, height: side, ...extra }])
        .then(([image]) => image!);
    const reference = await draw(REFERENCE);
    const vector = Array.from(reference.style!);
    await writePng(png(reference), join(outDir, "style-reference.png"));
    await writePng(png(await draw(SUBJECT)), join(outDir, "style-none.png"));
    for (const strength of [0.3, 0.7]) {
      const styled = await draw(SUBJECT, { style: { vector, strength } });
      await writePng(png(styled), join(outDir, `style-${strength}.png`));
    }
    // Upscale: the busiest 64 x 64 of the 256 output, and the same region of the 4x re-draw.
    const factor = 4;
    const crop = SIDE / 4;
    const small = await draw(UPSCALED);
    const large = await draw(UPSCALED, {}, SIDE * factor);
    const { left, top } = busiestWindow(small, crop);
    const enlarged = await png(small)
      .extract({ left, top, width: crop, height: crop })
      .resize(crop * factor, crop * factor, { kernel: "nearest" })
      .png()
      .toBuffer();
    const redrawn = await png(large)
      .extract({
        left: left * factor,
        top: top * factor,
        width: crop * factor,
        height: crop * factor,
      })
      .png()
      .toBuffer();
    const gap = 8;
    const side = crop * factor;
    const canvas = sharp({
      create: {
        width: side * 2 + gap * 3,
        height: side + gap * 2,
        channels: 3,
        background: "#ffffff",
      },
    }).composite([
      { input: enlarged, left: gap, top: gap },
      { input: redrawn, left: side + gap * 2, top: gap },
    ]);
    await writePng(canvas, join(outDir, "upscale-detail.png"));
    console.log(`wrote the style and upscale samples to ${outDir}`);
  } finally {
    await renderer.close();
  }
});
