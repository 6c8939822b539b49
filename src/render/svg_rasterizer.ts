/**
 * SVG drawn to PNG on the host, for models that take raster images only. The drawing happens
 * in a Worker of its own (`rasterizer_worker.ts`), started on first use, so the host's event
 * loop keeps serving while it draws; a drawing that fails in a way that may have damaged the
 * renderer, or that takes too long, ends that Worker and the next drawing starts a fresh one.
 *
 * @module
 */
import { RASTER_BOUNDS, type RasterBounds } from "./raster_bounds.ts";
import type { RasterRequest } from "./rasterizer_worker.ts";
import { SerialWorker } from "./serial_worker.ts";

/** A drawn SVG. */
export interface Raster {
  png: Uint8Array;
  width: number;
  height: number;
  /** The size the SVG declares; larger than `width`×`height` when it was scaled down. */
  intrinsic: { width: number; height: number };
}

/** How {@linkcode SvgRasterizer} draws. */
export interface RasterizerOptions {
  /** The largest PNG it makes (default {@linkcode RASTER_BOUNDS}). */
  bounds?: RasterBounds;
  /** Time one drawing may take, in ms, before its Worker is ended (default 10,000). */
  timeoutMs?: number;
  /** Characters of SVG it takes at most (default 10 million). */
  maxSvgChars?: number;
}

/** How one drawing is made. */
export interface DrawOptions {
  /** A CSS colour under the drawing (default none: what the SVG leaves bare is transparent). */
  background?: string;
}

/** Draws SVG to PNG in a Worker; close it with `close()` or `await using`. */
export class SvgRasterizer implements AsyncDisposable {
  #options: Required<RasterizerOptions>;
  #worker: SerialWorker<Omit<RasterRequest, "id">, Raster>;

  constructor(options: RasterizerOptions = {}) {
    this.#options = {
      bounds: RASTER_BOUNDS,
      timeoutMs: 10_000,
      maxSvgChars: 10_000_000,
      ...options,
    };
    this.#worker = new SerialWorker({
      url: new URL("./rasterizer_worker.ts", import.meta.url),
      name: "rasterizer",
      timeoutMs: this.#options.timeoutMs,
      failure: "Cannot draw SVG",
      // A panic inside WebAssembly ("unreachable") may leave the renderer's memory damaged.
      damaging: (message) => /unreachable|memory/i.test(message),
    });
  }

  /**
   * Draws `svg` at its own size, or scaled down to the bounds keeping its aspect ratio.
   * Drawings run one at a time, in order.
   *
   * @throws {Error} When the SVG cannot be parsed or drawn, is too long, or took too long; the
   * message says which.
   */
  rasterize(svg: string, options: DrawOptions = {}): Promise<Raster> {
    if (svg.length > this.#options.maxSvgChars) {
      return Promise.reject(
        new RangeError(
          `Cannot draw SVG of ${svg.length} characters: at most ${this.#options.maxSvgChars}`,
        ),
      );
    }
    return this.#worker.run({ svg, bounds: this.#options.bounds, background: options.background });
  }

  /** Ends the Worker; drawings not done and later ones reject. */
  close(): Promise<void> {
    return this.#worker.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
