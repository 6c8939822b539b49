/**
 * Vega and Vega-Lite specs drawn to SVG on the host, in a Worker of its own (`vega_worker.ts`)
 * started on first use with no permission at all: a spec comes from a cell, and Vega would
 * otherwise read the files and fetch the URLs its `data.url` names with the host's rights. A
 * drawing that takes too long ends that Worker; the next drawing starts a fresh one.
 *
 * @module
 */
import type { VegaRequest } from "./vega_worker.ts";
import { SerialWorker } from "./serial_worker.ts";

/** MIME types of Vega-Lite specs, which are compiled to Vega before drawing. */
export const VEGA_LITE_TYPES = [
  "application/vnd.vegalite.v6+json",
  "application/vnd.vegalite.v5+json",
  "application/vnd.vegalite.v4+json",
] as const;

/** MIME type of Vega specs. */
export const VEGA_TYPE = "application/vnd.vega.v5+json";

/**
 * The Vega Worker's permissions: none. Module loading is not governed by these (DESIGN.md
 * section 9), so Vega's modules still load from the npm cache, while any read or fetch made
 * while drawing is refused.
 */
export const VEGA_PERMISSIONS: Deno.PermissionOptionsObject = {
  read: false,
  write: false,
  net: false,
  env: false,
  run: false,
  ffi: false,
  sys: false,
  import: false,
};

/** A drawn spec. */
export interface VegaSvg {
  svg: string;
  /** What Vega warned of, e.g. data it was refused, in the order it said it. */
  warnings: string[];
}

/** How {@linkcode VegaRenderer} draws. */
export interface VegaRendererOptions {
  /** Time one drawing may take, in ms, before its Worker is ended (default 10,000). */
  timeoutMs?: number;
}

/** Draws Vega and Vega-Lite specs to SVG in a Worker; close it with `close()` or `await using`. */
export class VegaRenderer implements AsyncDisposable {
  #worker: SerialWorker<Omit<VegaRequest, "id">, VegaSvg>;

  constructor(options: VegaRendererOptions = {}) {
    this.#worker = new SerialWorker({
      url: new URL("./vega_worker.ts", import.meta.url),
      name: "vega",
      permissions: VEGA_PERMISSIONS,
      timeoutMs: options.timeoutMs ?? 10_000,
      failure: "Cannot draw a chart",
    });
  }

  /**
   * The SVG of `spec`, a bundle entry of MIME type `type` (a spec object, or its JSON text).
   * Drawings run one at a time, in order.
   *
   * @throws {TypeError} When `type` is no Vega or Vega-Lite type.
   * @throws {Error} When the spec is invalid, cannot be drawn or took too long; the message
   * says which.
   */
  toSvg(type: string, spec: unknown): Promise<VegaSvg> {
    const lite = (VEGA_LITE_TYPES as readonly string[]).includes(type);
    if (!lite && type !== VEGA_TYPE) {
      return Promise.reject(new TypeError(`Cannot draw a chart of type ${type}: no Vega type`));
    }
    let parsed = spec;
    if (typeof spec === "string") {
      try {
        parsed = JSON.parse(spec);
      } catch (error) {
        return Promise.reject(new Error(`Cannot draw a chart: its spec is no JSON: ${error}`));
      }
    }
    return this.#worker.run({ spec: parsed, lite });
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
