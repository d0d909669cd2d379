import sharp from "sharp";
import type { RawImage } from "../pipelines/pipeline.ts";

// PNG bytes that depend only on the pixels: libvips writes no timestamp, text or EXIF chunks unless
// asked to, and fixed compression settings pin the encoder's choices. Content-addressed storage and
// the edge's dedup rely on that.

export const PNG_CONTENT_TYPE = "image/png";

export async function encodePng(image: RawImage): Promise<Uint8Array> {
  const expected = image.width * image.height * image.channels;
  if (image.data.byteLength !== expected) {
    throw new Error(`raw image has ${image.data.byteLength} bytes, expected ${expected}`);
  }
  const png = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
