/**
 * Vega and Vega-Lite specs drawn to SVG on the host, in a Worker of its own (`vega_worker.ts`)
 * started on first use with no permission at all: a spec comes from a cell, and Vega would
 * otherwise read the files and fetch the URLs its `data.url` names with the host's rights. A
 * drawing that takes too long ends that Worker; the next drawing starts a fresh one.
 *
 * @module
 */
import type { VegaReply, VegaRequest } from "./vega_worker.ts";

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
  #timeoutMs: number;
  #worker?: Worker;
  #pending = new Map<number, (reply: VegaReply) => void>();
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: VegaRendererOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
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
    if (this.#closed) {
      return Promise.reject(new Error("Cannot draw a chart: the renderer is closed"));
    }
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
    const run = this.#queue.then(() => this.#draw(parsed, lite));
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

  async #draw(spec: unknown, lite: boolean): Promise<VegaSvg> {
    const worker = this.#worker ??= this.#start();
    const id = this.#next++;
    const { promise, resolve } = Promise.withResolvers<VegaReply | "timeout">();
    this.#pending.set(id, resolve);
    const timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    worker.postMessage({ id, spec, lite } satisfies VegaRequest);
    try {
      const reply = await promise;
      if (reply === "timeout") {
        this.#stop();
        throw new Error(`Cannot draw a chart: it took more than ${this.#timeoutMs} ms`);
      }
      if (!reply.ok) throw new Error(`Cannot draw a chart: ${reply.message}`);
      return { svg: reply.svg, warnings: reply.warnings };
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  #start(): Worker {
    const worker = new Worker(new URL("./vega_worker.ts", import.meta.url), {
      type: "module",
      name: "vega",
      deno: { permissions: VEGA_PERMISSIONS },
    });
    worker.onmessage = (event: MessageEvent<VegaReply>) => {
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
