/**
 * Deno's notebook API inside a kernel: `Deno.jupyter` with `display`, `format`, `broadcast`, the
 * `md`, `html` and `svg` tagged templates, `image` and `$display`, as in Deno's Jupyter kernel
 * (`cli/js/40_jupyter.js`, types in `lib.deno.unstable.d.ts`), plus a global `display`. Notebook
 * code written for Deno's kernel runs unchanged; what it displays reaches the cell's result.
 *
 * Under `deno run`, `Deno.jupyter` throws and cannot be redefined, so the global `Deno` becomes a
 * Proxy that answers `jupyter` itself and passes everything else to the real namespace.
 *
 * @module
 */
import type { MimeBundle } from "../protocol.ts";
import { DISPLAY, formatDisplayed, isChartSpec, rawBundle } from "./format.ts";
import { imageSize, imageType } from "./image_bytes.ts";

/** Items one cell may display; later ones are dropped with a note on stderr. */
export const MAX_DISPLAYS = 100;

/** Characters of displayed bundles one cell may send (base64 images included). */
export const MAX_DISPLAY_CHARS = 32 * 2 ** 20;

/** `Deno.jupyter.display`'s options; `update` and `display_id` only make a new display here. */
interface DisplayOptions {
  raw?: boolean;
  update?: boolean;
  display_id?: string;
}

/** An object that shows itself as `bundle`. */
type Displayable = { [DISPLAY]: () => Record<string, unknown> };

/**
 * The bundles displayed since the last {@linkcode take}, in the order they were displayed.
 * Displays after a cell ended (from a timer, say) go to the next cell, as its stderr does.
 */
export class Displays {
  #items: MimeBundle[] = [];
  #chars = 0;
  #dropped = 0;

  /** Adds a bundle, unless this cell has displayed too much already. */
  push(bundle: MimeBundle): void {
    const chars = Object.values(bundle).reduce<number>(
      (n, entry) => n + (typeof entry === "string" ? entry.length : JSON.stringify(entry).length),
      0,
    );
    if (this.#items.length >= MAX_DISPLAYS || this.#chars + chars > MAX_DISPLAY_CHARS) {
      if (this.#dropped++ === 0) {
        console.error(
          `display: a cell may display ${MAX_DISPLAYS} items of ${MAX_DISPLAY_CHARS / 2 ** 20} ` +
            "MB in all; later displays of this cell are not shown",
        );
      }
      return;
    }
    this.#items.push(bundle);
    this.#chars += chars;
  }

  /** The bundles displayed so far, emptying the list for the next cell. */
  take(): MimeBundle[] {
    const items = this.#items;
    this.#items = [];
    this.#chars = 0;
    this.#dropped = 0;
    return items;
  }
}

/**
 * Installs `Deno.jupyter` and the global `display`, before the namespace's baseline is taken so
 * that neither is a user variable (nor saved in a snapshot).
 *
 * @param displays Where displayed bundles go.
 * @param scratchDir The kernel's folder, named in the message of an image that cannot be read.
 */
export function installJupyter(displays: Displays, scratchDir: string): void {
  const jupyter = createJupyter(displays, scratchDir);
  const real = Deno;
  // Reported as an own property too, so that completion and Deno.inspect see it.
  const own = { value: jupyter, writable: false, enumerable: true, configurable: true };
  const proxy = new Proxy(real, {
    get: (target, key) => key === "jupyter" ? jupyter : Reflect.get(target, key),
    has: (target, key) => key === "jupyter" || Reflect.has(target, key),
    ownKeys: (target) => [...Reflect.ownKeys(target), "jupyter"],
    getOwnPropertyDescriptor: (target, key) =>
      key === "jupyter" ? own : Reflect.getOwnPropertyDescriptor(target, key),
  });
  Object.defineProperty(globalThis, "Deno", {
    value: proxy,
    writable: false,
    enumerable: true,
    configurable: false,
  });
  Object.defineProperty(globalThis, "display", {
    value: jupyter.display,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  provided.clear();
  for (const [name, value] of Object.entries(jupyter)) {
    if (typeof value === "function") provided.set(value, `Deno.jupyter.${name}`);
  }
}

/** The kernel's own functions a cell may keep in a variable, by the expression that reaches them. */
const provided = new Map<unknown, string>();

/**
 * The expression that reaches `value` when it is one of `Deno.jupyter`'s functions (a cell's
 * `const { md } = Deno.jupyter`), so that a snapshot can bind it again instead of saving it.
 */
export function providedExpression(value: unknown): string | undefined {
  return provided.get(value);
}

/** The promises `display` returned: a cell's value that is one of them is no result to show. */
const displayPromises = new WeakSet<Promise<void>>();

/**
 * Whether `value` is the promise a `display` call returned (Deno's API returns one), which a
 * cell ending in `display(chart)` would otherwise show as `Out[n]: Promise { undefined }`.
 */
export function isDisplayPromise(value: unknown): boolean {
  return value instanceof Promise && displayPromises.has(value);
}

function createJupyter(displays: Displays, scratchDir: string) {
  function display(obj: unknown, options: DisplayOptions = {}): Promise<void> {
    const bundle = options.raw && isMediaBundle(obj) && !isChartSpec(obj)
      ? rawBundle(mimeBundle(obj))
      : formatDisplayed(obj);
    const done = bundle instanceof Promise
      ? bundle.then((b) => displays.push(b))
      : (displays.push(bundle), Promise.resolve());
    displayPromises.add(done);
    return done;
  }

  async function format(obj: unknown): Promise<MimeBundle> {
    return await formatDisplayed(obj);
  }

  /** Of Jupyter's messages, only the displays have a meaning here. */
  function broadcast(msgType: string, content: Record<string, unknown>): Promise<void> {
    if (msgType === "display_data" || msgType === "update_display_data") {
      const data = content?.data;
      if (isMediaBundle(data)) displays.push(rawBundle(data));
    }
    return Promise.resolve();
  }

  function image(source: string | Uint8Array | ArrayBuffer): Displayable {
    const bytes = typeof source === "string"
      ? readImage(source, scratchDir)
      : source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : source;
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Deno.jupyter.image takes a path or a Uint8Array, got ${typeof bytes}`,
      );
    }
    const type = imageType(bytes);
    if (!type) {
      const what = typeof source === "string" ? `the file "${source}"` : "the bytes given";
      throw new TypeError(
        `Deno.jupyter.image: ${what} hold no PNG, JPEG, GIF or WebP image (by their first bytes)`,
      );
    }
    const size = imageSize(bytes);
    const plain = `<${type}${size ? ` ${size.width}×${size.height}` : ""}, ${bytes.length} bytes>`;
    return displayable({ [type]: bytes.toBase64(), "text/plain": plain });
  }

  return {
    display,
    format,
    broadcast,
    md: tagged("text/markdown", (text) => text),
    html: tagged("text/html", (text) => text),
    svg: tagged("image/svg+xml", (text) => `<image/svg+xml, ${text.length} characters>`),
    image,
    $display: DISPLAY,
  };
}

/**
 * A tagged template whose text becomes a displayable of one MIME type, as Deno's does, with a
 * `text/plain` of its own (Deno's has none) so that a client reading only text sees it too.
 */
function tagged(mime: string, plain: (text: string) => string) {
  return (strings: TemplateStringsArray, ...values: unknown[]): Displayable => {
    const text = strings.reduce(
      (joined, part, i) => joined + part + (values[i] !== undefined ? values[i] : ""),
      "",
    );
    return displayable({ [mime]: text, "text/plain": plain(text) });
  };
}

function displayable(bundle: Record<string, unknown>): Displayable {
  return { [DISPLAY]: () => bundle };
}

function isMediaBundle(obj: unknown): obj is Record<string, unknown> {
  return obj !== null && typeof obj === "object" && !Array.isArray(obj);
}

/**
 * `obj` when one of its keys is a MIME type, as `display(obj, { raw: true })` needs.
 *
 * @throws {TypeError} Saying what raw expects, when no key is a MIME type.
 */
function mimeBundle(obj: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(obj);
  if (keys.some((key) => /^[a-z]+\/[\w.+-]+$/i.test(key))) return obj;
  const given = keys.length === 0
    ? "an empty object"
    : `an object with keys ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}`;
  throw new TypeError(
    `display(value, { raw: true }) expects a MIME bundle, an object keyed by MIME type such as ` +
      `{ "text/html": "<b>hi</b>" } or { "application/vnd.vegalite.v5+json": spec }; got ${given}, ` +
      "none of them a MIME type. Without raw, display(value) shows any value " +
      "(a Vega or Vega-Lite spec with its $schema as the chart)",
  );
}

/** Reads an image file; relative paths start in the scratch folder (the working folder). */
function readImage(path: string, scratchDir: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    const why =
      error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
        ? `a kernel reads files only in its scratch folder (${scratchDir})`
        : error instanceof Error
        ? error.message
        : String(error);
    throw new TypeError(`Deno.jupyter.image cannot read "${path}": ${why}`, { cause: error });
  }
}
