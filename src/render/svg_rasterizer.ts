/**
 * SVG drawn to PNG on the host, for models that take raster images only. The drawing happens
 * in a Worker of its own (`rasterizer_worker.ts`), started on first use, so the host's event
 * loop keeps serving while it draws; a drawing that fails in a way that may have damaged the
 * renderer, or that takes too long, ends that Worker and the next drawing starts a fresh one.
 *
 * @module
 */
import { RASTER_BOUNDS, type RasterBounds } from "./raster_bounds.ts";
import type { RasterReply, RasterRequest } from "./rasterizer_worker.ts";

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
  #worker?: Worker;
  #pending = new Map<number, (reply: RasterReply) => void>();
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: RasterizerOptions = {}) {
    this.#options = {
      bounds: RASTER_BOUNDS,
      timeoutMs: 10_000,
      maxSvgChars: 10_000_000,
      ...options,
    };
  }

  /**
   * Draws `svg` at its own size, or scaled down to the bounds keeping its aspect ratio.
   * Drawings run one at a time, in order.
   *
   * @throws {Error} When the SVG cannot be parsed or drawn, is too long, or took too long; the
   * message says which.
   */
  rasterize(svg: string, options: DrawOptions = {}): Promise<Raster> {
    if (this.#closed) return Promise.reject(new Error("Cannot draw SVG: the rasterizer is closed"));
    if (svg.length > this.#options.maxSvgChars) {
      return Promise.reject(
        new RangeError(
          `Cannot draw SVG of ${svg.length} characters: at most ${this.#options.maxSvgChars}`,
        ),
      );
    }
    const run = this.#queue.then(() => this.#draw(svg, options));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Ends the Worker; later drawings reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#stop();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #draw(svg: string, { background }: DrawOptions): Promise<Raster> {
    const worker = this.#worker ??= this.#start();
    const id = this.#next++;
    const { promise, resolve } = Promise.withResolvers<RasterReply | "timeout">();
    this.#pending.set(id, resolve);
    const timer = setTimeout(() => resolve("timeout"), this.#options.timeoutMs);
    worker.postMessage(
      { id, svg, bounds: this.#options.bounds, background } satisfies RasterRequest,
    );
    try {
      const reply = await promise;
      if (reply === "timeout") {
        this.#stop();
        throw new Error(`Cannot draw SVG: it took more than ${this.#options.timeoutMs} ms`);
      }
      if (!reply.ok) {
        // A panic inside WebAssembly ("unreachable") may leave the renderer's memory damaged.
        if (/unreachable|memory/i.test(reply.message)) this.#stop();
        throw new Error(`Cannot draw SVG: ${reply.message}`);
      }
      return {
        png: reply.png,
        width: reply.width,
        height: reply.height,
        intrinsic: reply.intrinsic,
      };
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  #start(): Worker {
    const worker = new Worker(new URL("./rasterizer_worker.ts", import.meta.url), {
      type: "module",
      name: "rasterizer",
    });
    worker.onmessage = (event: MessageEvent<RasterReply>) => {
      this.#pending.get(event.data.id)?.(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const message = `the renderer failed: ${event.message}`;
      for (const [id, resolve] of this.#pending) resolve({ id, ok: false, message });
      this.#stop();
    };
    return worker;
  }

  #stop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}
