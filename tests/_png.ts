/** Test helper: reads a PNG's size and RGBA pixels (8-bit RGBA, non-interlaced, as resvg writes). */
import assert from "node:assert/strict";

/** A decoded PNG. */
export interface Png {
  width: number;
  height: number;
  /** RGBA, row by row. */
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** The width and height in a PNG's IHDR, after checking its signature. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], SIGNATURE, "PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(String.fromCharCode(...bytes.subarray(12, 16)), "IHDR");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Decodes an 8-bit RGBA PNG (colour type 6), undoing each row's filter. */
export async function decodePng(bytes: Uint8Array): Promise<Png> {
  const { width, height } = pngSize(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(bytes[24], 8, "bit depth");
  assert.equal(bytes[25], 6, "colour type RGBA");
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === "IDAT") idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const stream = new Blob(idat as BlobPart[]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  const stride = width * 4;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? pixels[y * stride + x - 4]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][
        filter!
      ]!;
      pixels[y * stride + x] = (row[x]! + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** A rectangle of pixels: columns `x0` to `x1` and rows `y0` to `y1`, ends excluded. */
export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * How many pixels are neither fully transparent nor white: what was drawn on the background,
 * in the whole image or in `region`.
 */
export function paintedPixels(png: Png, region?: Region): number {
  const { x0 = 0, y0 = 0, x1 = png.width, y1 = png.height } = region ?? {};
  let painted = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b, a] = png.pixels.subarray(i, i + 4);
      if (a !== 0 && !(r === 255 && g === 255 && b === 255)) painted++;
    }
  }
  return painted;
}

/** A 4×3 red PNG, as resvg wrote it: the bytes tests display, send and compare. */
// deno-fmt-ignore
export const RED_PNG: readonly number[] = [
  137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82,
  0, 0, 0, 4, 0, 0, 0, 3, 8, 6, 0, 0, 0, 180, 244, 174,
  198, 0, 0, 0, 18, 73, 68, 65, 84, 120, 156, 99, 60, 195, 192, 240,
  159, 1, 9, 16, 22, 0, 0, 169, 35, 5, 101, 110, 179, 1, 17, 0,
  0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];
