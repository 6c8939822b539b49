/**
 * Values as MIME bundles, the way Deno's own Jupyter kernel formats them (its
 * `cli/js/40_jupyter.js`): `text/plain` is the REPL-like rendering of `render.ts`, and an object
 * with a `[Symbol.for("Jupyter.display")]()` method (Deno's `$display`) returns its own bundle.
 *
 * @module
 */
import type { MimeBundle } from "../protocol.ts";
import { render } from "./render.ts";

const DISPLAY = Symbol.for("Jupyter.display");

/**
 * The MIME bundle of a cell's value. For an ordinary value it is `{"text/plain": render(value)}`;
 * for an object with a callable `$display` method it is the bundle that method returns, with
 * `text/plain` rendered when the bundle has no string one. A `$display` that throws or returns
 * no bundle is reported on the cell's stderr and the value shown as text/plain: the cell still
 * succeeds.
 *
 * @example
 * ```ts
 * format(42); // { "text/plain": "42" }
 * format({ [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": "**hi**" }) });
 * // { "text/markdown": "**hi**", "text/plain": "{ [Symbol(Jupyter.display)]: [Function: ...] }" }
 * ```
 */
export function format(value: unknown): MimeBundle {
  const own = displayBundle(value);
  const plain = own?.["text/plain"];
  return { ...own, "text/plain": typeof plain === "string" ? plain : render(value) };
}

/** What the value's `$display` method returns, as plain data; `undefined` if nothing usable. */
function displayBundle(value: unknown): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    const method = (value as Record<symbol, unknown>)[DISPLAY];
    if (typeof method !== "function") return undefined;
    const bundle: unknown = method.call(value);
    // Deno's kernel awaits an async $display; this one does not, because values are also
    // formatted when a restore re-binds saved variables, where a promise that never settles
    // would hang the kernel.
    if (bundle instanceof Promise) {
      console.error('[Symbol.for("Jupyter.display")]() returned a promise; showing text/plain');
      return undefined;
    }
    if (bundle === null || typeof bundle !== "object") {
      console.error(
        '[Symbol.for("Jupyter.display")]() returned no MIME bundle; showing text/plain',
      );
      return undefined;
    }
    return plainData(bundle);
  } catch (error) {
    console.error('[Symbol.for("Jupyter.display")]() threw; showing text/plain:', error);
    return undefined;
  }
}

/**
 * The entries of a bundle that are strings or survive JSON, as plain data: the bundle crosses
 * a `postMessage` and a JSON frame, and a value either cannot carry would lose the reply.
 */
function plainData(bundle: object): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [mime, entry] of Object.entries(bundle)) {
    if (typeof entry === "string") {
      data[mime] = entry;
      continue;
    }
    try {
      const json = JSON.stringify(entry);
      if (json !== undefined) data[mime] = JSON.parse(json);
    } catch {
      // A BigInt or a cycle: this MIME type is left out, the others are shown.
    }
  }
  return data;
}
