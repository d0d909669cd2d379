import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { RawImage } from "../pipelines/pipeline.ts";
import { encodePng } from "./png.ts";

function gradient(width: number, height: number, shift = 0): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data.set([(i + shift) % 256, (i * 7) % 256, (i * 13) % 256], i * 3);
  }
  return { width, height, channels: 3, data };
}

/** Chunk types in file order. */
function chunks(png: Uint8Array): string[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  for (let at = 8; at < png.byteLength;) {
    const length = view.getUint32(at);
    types.push(new TextDecoder().decode(png.subarray(at + 4, at + 8)));
    at += 12 + length;
  }
  return types;
}

describe("encodePng", () => {
  it("gives the same bytes for the same pixels, and different bytes otherwise", async () => {
    const [a, b, c] = await Promise.all([
      encodePng(gradient(64, 64)),
      encodePng(gradient(64, 64)),
      encodePng(gradient(64, 64, 1)),
    ]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it("writes no time, text, colour-profile or EXIF chunks, and round-trips the pixels", async () => {
    const png = await encodePng(gradient(64, 32));
    const types = chunks(png);
    expect(types[0]).toBe("IHDR");
    expect(types.at(-1)).toBe("IEND");
    // pHYs (a fixed density) is the one ancillary chunk libvips writes.
    expect(new Set(types)).toEqual(new Set(["IHDR", "pHYs", "IDAT", "IEND"]));
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 64, height: 32, channels: 3 });
    expect(Buffer.from(decoded.data).equals(Buffer.from(gradient(64, 32).data))).toBe(true);
  });

  it("refuses a buffer that does not match its dimensions", async () => {
    const bad = { ...gradient(8, 8), height: 9 };
    await expect(encodePng(bad)).rejects.toThrow(/expected 216/);
  });
});
