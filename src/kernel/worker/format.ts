/**
 * Values as MIME bundles, the way Deno's own Jupyter kernel formats them (its
 * `cli/js/40_jupyter.js`): `text/plain` is the REPL-like rendering of `render.ts`; an object
 * with a `[Symbol.for("Jupyter.display")]()` method (Deno's `$display`) returns its own bundle;
 * and Deno's duck typing finds the rest: a canvas (`toDataURL()`), a Vega view (`toSpec()`),
 * the bytes of a PNG, JPEG, GIF or WebP image, and an SVG or HTML element (`outerHTML`, as
 * d3 on linkedom or deno-dom makes them). A table (an array of records, a `Map`, a data
 * library's table) gets `text/markdown` too: its shape and first rows (`table.ts`).
 *
 * @module
 */
import type { MimeBundle } from "../protocol.ts";
import { imageType } from "./image_bytes.ts";
import { render } from "./render.ts";
import { tableMarkdown, tableView } from "./table.ts";

/** Deno's `$display`: the method by which any object gives its own MIME bundle. */
export const DISPLAY = Symbol.for("Jupyter.display");

/**
 * The MIME bundle of a cell's value. For an ordinary value it is `{"text/plain": render(value)}`;
 * for image bytes it adds the image, base64; for an object with a callable `$display` method it
 * is the bundle that method returns, with `text/plain` rendered when the bundle has no string
 * one. A `$display` that throws, returns a promise or returns no bundle is reported on the
 * cell's stderr and the value shown as text/plain: the cell still succeeds.
 *
 * @example
 * ```ts
 * format(42); // { "text/plain": "42" }
 * format({ [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": "**hi**" }) });
 * // { "text/markdown": "**hi**", "text/plain": "{ [Symbol(Jupyter.display)]: [Function: ...] }" }
 * ```
 */
export function format(value: unknown): MimeBundle {
  const own = callDisplay(value);
  // Deno's kernel awaits an async $display; a cell's value does not wait, because a promise
  // that never settles would hang the kernel after its cell had finished.
  if (own instanceof Promise) {
    own.catch(() => {});
    console.error('[Symbol.for("Jupyter.display")]() returned a promise; showing text/plain');
    return complete(undefined, value);
  }
  return complete(checked(own), value);
}

/**
 * The MIME bundle of a displayed value (`Deno.jupyter.display`, `Deno.jupyter.format`): as
 * {@linkcode format}, except that a `$display` returning a promise is awaited, as Deno's kernel
 * does, and that a Vega or Vega-Lite spec (by its `$schema`) is shown as its chart: a cell's
 * value shows the spec's text, which a model may want to read. Returns the bundle itself when
 * nothing needs awaiting, so displays keep their order.
 */
export function formatDisplayed(value: unknown): MimeBundle | Promise<MimeBundle> {
  const own = callDisplay(value);
  if (own === undefined && isChartSpec(value)) return complete(chartBundle(value), value);
  if (!(own instanceof Promise)) return complete(checked(own), value);
  return own.then(
    (bundle) => complete(checked(bundle), value),
    (error) => {
      console.error('[Symbol.for("Jupyter.display")]() threw; showing text/plain:', error);
      return complete(undefined, value);
    },
  );
}

/**
 * A bundle given as it is (`display(bundle, { raw: true })`): its usable entries, and
 * `text/plain` empty when it has none, since a frontend shows only the richest entry anyway.
 */
export function rawBundle(bundle: object): MimeBundle {
  const data = plainData(bundle);
  const plain = data["text/plain"];
  return { ...data, "text/plain": typeof plain === "string" ? plain : "" };
}

function complete(own: Record<string, unknown> | undefined, value: unknown): MimeBundle {
  const bundle = own ?? likeBundle(value) ?? tableBundle(value);
  const plain = bundle?.["text/plain"];
  return { ...bundle, "text/plain": typeof plain === "string" ? plain : render(value) };
}

/**
 * The bundle of a value that looks like something displayable, in the order Deno's `format`
 * tries them; `undefined` for anything else, or when looking threw (a getter, a Proxy).
 */
function likeBundle(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== "object") return undefined;
  try {
    const v = value as Record<string, unknown>;
    if (typeof v.toDataURL === "function") {
      const url = String(v.toDataURL());
      const match = /^data:([^;,]+)(;base64)?,(.*)$/s.exec(url);
      if (match?.[2]) return { [match[1]!]: match[3] };
    }
    if (typeof v.toSpec === "function") {
      const spec = v.toSpec() as Record<string, unknown> | null;
      if (spec !== null && typeof spec === "object" && "$schema" in spec) {
        return plainData({ [vegaType(String(spec.$schema))]: spec });
      }
    }
    if (value instanceof Uint8Array) {
      const type = imageType(value);
      if (type) return { [type]: value.toBase64() };
    }
    const html = v.outerHTML;
    if (typeof html === "string") {
      return { [html.startsWith("<svg") ? "image/svg+xml" : "text/html"]: html };
    }
  } catch {
    // Looking was not possible: the value is shown as text/plain.
  }
  return undefined;
}

/** A table's shape line and head as `text/markdown`, for a model; `undefined` for no table. */
function tableBundle(value: unknown): Record<string, unknown> | undefined {
  const view = tableView(value);
  return view && { "text/markdown": tableMarkdown(view) };
}

/**
 * Whether `value` is a Vega or Vega-Lite spec by its `$schema`
 * (`https://vega.github.io/schema/vega-lite/v5.json`): displayed, it is drawn as the chart.
 */
export function isChartSpec(value: unknown): value is { $schema: string } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  try {
    const schema = (value as { $schema?: unknown }).$schema;
    return typeof schema === "string" && /\/schema\/vega(?:-lite)?\/v\d+/.test(schema);
  } catch {
    return false;
  }
}

function chartBundle(spec: { $schema: string }): Record<string, unknown> {
  return plainData({ [vegaType(spec.$schema)]: spec });
}

function vegaType(schema: string): string {
  const lite = /vega-lite\/v(\d+)/.exec(schema);
  return lite ? `application/vnd.vegalite.v${lite[1]}+json` : "application/vnd.vega.v5+json";
}

/** What the value's `$display` method returns; `undefined` if it has none or it threw. */
function callDisplay(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  try {
    const method = (value as Record<symbol, unknown>)[DISPLAY];
    if (typeof method !== "function") return undefined;
    return method.call(value);
  } catch (error) {
    console.error('[Symbol.for("Jupyter.display")]() threw; showing text/plain:', error);
    return undefined;
  }
}

/** A `$display` method's return value as plain data; `undefined` if it is no bundle. */
function checked(bundle: unknown): Record<string, unknown> | undefined {
  if (bundle === undefined) return undefined;
  if (bundle === null || typeof bundle !== "object") {
    console.error('[Symbol.for("Jupyter.display")]() returned no MIME bundle; showing text/plain');
    return undefined;
  }
  return plainData(bundle);
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
