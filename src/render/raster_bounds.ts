/**
 * How large an image may be when it reaches a model, and the size an image is scaled to when it
 * is larger: a pure function of sizes. Models take raster images of bounded size (a side of
 * 8,000 px at most, and some megabytes); a client or model refuses one that is larger, losing
 * the whole result.
 *
 * @module
 */
import type { PixelSize } from "../kernel/worker/image_bytes.ts";

/** The largest image a result carries. */
export interface RasterBounds {
  /** Pixels a side, at most (default 8,000). */
  maxSide: number;
  /** Pixels in all, at most (default 16 million). */
  maxPixels: number;
  /** Bytes of one encoded image, at most (default 5 MiB). */
  maxBytes: number;
}

/** The bounds a result's images are held to unless a caller gives others. */
export const RASTER_BOUNDS: RasterBounds = {
  maxSide: 8000,
  maxPixels: 16_000_000,
  maxBytes: 5 * 2 ** 20,
};

/**
 * The size to draw an image of `size` at: its own size when it fits the bounds, else the
 * largest size of the same aspect ratio that does, in whole pixels (at least 1 a side).
 *
 * @param size The image's own size; fractional for an SVG.
 * @example
 * ```ts
 * fitRaster({ width: 16000, height: 1000 }); // { width: 8000, height: 500 }
 * ```
 */
export function fitRaster(
  size: PixelSize,
  bounds: Pick<RasterBounds, "maxSide" | "maxPixels"> = RASTER_BOUNDS,
): PixelSize {
  const width = Math.max(1, Math.ceil(size.width));
  const height = Math.max(1, Math.ceil(size.height));
  const scale = Math.min(
    1,
    bounds.maxSide / width,
    bounds.maxSide / height,
    Math.sqrt(bounds.maxPixels / (width * height)),
  );
  if (scale === 1) return { width, height };
  return {
    width: Math.max(1, Math.min(bounds.maxSide, Math.floor(size.width * scale))),
    height: Math.max(1, Math.min(bounds.maxSide, Math.floor(size.height * scale))),
  };
}

/**
 * The size to draw an image at so that its encoding, `bytes` long at `size`, fits `maxBytes`:
 * encoded size grows about with the pixel count, and a tenth is kept in reserve.
 */
export function fitBytes(size: PixelSize, bytes: number, maxBytes: number): PixelSize {
  const scale = Math.min(1, Math.sqrt((0.9 * maxBytes) / bytes));
  return {
    width: Math.max(1, Math.floor(size.width * scale)),
    height: Math.max(1, Math.floor(size.height * scale)),
  };
}
