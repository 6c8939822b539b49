/**
 * What raster image a run of bytes holds, told by its magic bytes, and its size in pixels, read
 * from its header without decoding it. Used in the kernel (`Deno.jupyter.image`) and in the
 * host (bounding images before they reach a model), so it lives in the Worker's folder, the
 * only code a sandbox may read.
 *
 * @module
 */

/** The raster types a model takes as MCP `image` content. */
export type RasterType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

/** Every {@linkcode RasterType}, in the order a bundle's entries are preferred. */
export const RASTER_TYPES: readonly RasterType[] = [
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
];

/** An image's size in pixels. */
export interface PixelSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The raster type of `bytes` by their magic bytes: PNG, JPEG, GIF or WebP; `undefined` for
 * anything else.
 *
 * @example
 * ```ts
 * imageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // "image/jpeg"
 * ```
 */
export function imageType(bytes: Uint8Array): RasterType | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") return "image/gif";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "image/webp";
  return undefined;
}

/**
 * The size an image's header declares, without decoding it; `undefined` when the bytes are no
 * image of a known type or the header is cut short.
 */
export function imageSize(bytes: Uint8Array): PixelSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = imageType(bytes);
  try {
    switch (type) {
      case "image/png":
        // The first chunk is IHDR: width and height, big-endian, after its length and name.
        if (ascii(bytes, 12, 4) !== "IHDR") return undefined;
        return positive(view.getUint32(16), view.getUint32(20));
      case "image/gif":
        return positive(view.getUint16(6, true), view.getUint16(8, true));
      case "image/webp":
        return webpSize(bytes, view);
      case "image/jpeg":
        return jpegSize(bytes, view);
      case undefined:
        return undefined;
    }
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

function webpSize(bytes: Uint8Array, view: DataView): PixelSize | undefined {
  switch (ascii(bytes, 12, 4)) {
    case "VP8 ": // lossy: a 14-bit width and height after the frame tag and start code
      return positive(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    case "VP8L": { // lossless: 14 bits each, less one, after a signature byte
      const bits = view.getUint32(21, true);
      return positive((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
    }
    case "VP8X": // extended: 24-bit canvas width and height, less one
      return positive(uint24(bytes, 24) + 1, uint24(bytes, 27) + 1);
    default:
      return undefined;
  }
}

/** Walks a JPEG's segments to its frame header (any SOF marker but DHT, JPG and DAC). */
function jpegSize(bytes: Uint8Array, view: DataView): PixelSize | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = view.getUint16(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) return positive(view.getUint16(at + 7), view.getUint16(at + 5));
    at += 2 + length;
  }
  return undefined;
}

function positive(width: number, height: number): PixelSize | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function uint24(bytes: Uint8Array, at: number): number {
  if (at + 3 > bytes.length) throw new RangeError("cut short");
  return bytes[at]! | bytes[at + 1]! << 8 | bytes[at + 2]! << 16;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}
