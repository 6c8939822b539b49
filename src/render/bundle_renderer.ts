/**
 * MIME bundles made fit for a model, on the host: an entry a model cannot take is drawn to PNG
 * by the renderer its MIME type maps to (SVG; Vega and Vega-Lite, drawn to SVG first), and a
 * raster image larger than the bounds is scaled down. What the bundle shows a model is then
 * chosen in one place, `mcp/mime_content.ts`.
 *
 * @module
 */
import type { ExecuteResult } from "../kernel/kernel_handle.ts";
import type { MimeBundle } from "../kernel/protocol.ts";
import { imageSize, imageType, RASTER_TYPES } from "../kernel/worker/image_bytes.ts";
import { RASTER_BOUNDS, type RasterBounds } from "./raster_bounds.ts";
import { type Raster, SvgRasterizer } from "./svg_rasterizer.ts";
import { VEGA_LITE_TYPES, VEGA_TYPE, VegaRenderer } from "./vega_renderer.ts";

/**
 * The bundle entry in which the renderer says what it did to an image (scaled it, or could not
 * show it), for the model to read beside the image.
 */
export const NOTE_TYPE = "text/x-mcp-kernel-host-note";

/** What draws: the rasterizer, and the Vega renderer that feeds it SVG. */
interface Painters {
  rasterizer: SvgRasterizer;
  vega: VegaRenderer;
}

/** One bundle entry drawn as PNG, and what the drawing warned of, if anything. */
interface Drawn {
  raster: Raster;
  warning?: string;
}

/** Draws one bundle entry as PNG. */
type Renderer = (entry: unknown, painters: Painters, type: string) => Promise<Drawn>;

/**
 * SVG is drawn on white, as a notebook page shows it: black axis labels on a transparent PNG
 * vanish for a viewer that puts it on a dark background.
 */
const drawSvg: Renderer = async (entry, { rasterizer }) => ({
  raster: await rasterizer.rasterize(withSvgNamespace(String(entry)), { background: "white" }),
});

/** A chart's spec drawn to SVG by Vega, then to PNG; Vega's warnings are kept for the note. */
const drawVega: Renderer = async (entry, { rasterizer, vega }, type) => {
  const { svg, warnings } = await vega.toSvg(type, entry);
  const raster = await rasterizer.rasterize(svg, { background: "white" });
  return { raster, ...(warnings.length > 0 && { warning: vegaWarning(warnings) }) };
};

/** Which MIME types are drawn, by what, in the order they are preferred. */
const RENDERERS: ReadonlyMap<string, Renderer> = new Map([
  ...VEGA_LITE_TYPES.map((type) => [type, drawVega] as const),
  [VEGA_TYPE, drawVega],
  ["image/svg+xml", drawSvg],
]);

/** Vega's warnings, at most five, in one note; refused loads say how to give data instead. */
export function vegaWarning(warnings: readonly string[]): string {
  const unique = [...new Set(warnings)];
  const shown = unique.slice(0, 5).join("; ");
  const more = unique.length > 5 ? ` (and ${unique.length - 5} more)` : "";
  const hint = unique.some((w) => /refused to load/.test(w))
    ? " A chart drawn by the host gets no data from files or URLs: put it in data.values."
    : "";
  return `[chart drawn with warnings: ${shown}${more}.${hint}]`;
}

/**
 * The SVG with the SVG namespace on its root element. Browsers draw an `<svg>` without one
 * inside HTML, and DOMs such as linkedom serialize it so (Observable Plot, d3), but resvg finds
 * no root node in it. Pure.
 */
export function withSvgNamespace(svg: string): string {
  return svg.replace(
    /<svg\b([^>]*)>/,
    (root, attributes: string) =>
      /\sxmlns\s*=/.test(attributes)
        ? root
        : `<svg xmlns="http://www.w3.org/2000/svg"${attributes}>`,
  );
}

/** How a {@linkcode BundleRenderer} bounds images. */
export interface BundleRendererOptions {
  /** The largest image a bundle keeps (default {@linkcode RASTER_BOUNDS}). */
  bounds?: RasterBounds;
}

/** Makes bundles fit for a model; owns its rasterizer, so close it with `close()`. */
export class BundleRenderer implements AsyncDisposable {
  #rasterizer: SvgRasterizer;
  #vega = new VegaRenderer();
  #bounds: RasterBounds;

  constructor(options: BundleRendererOptions = {}) {
    this.#bounds = options.bounds ?? RASTER_BOUNDS;
    this.#rasterizer = new SvgRasterizer({ bounds: this.#bounds });
  }

  /** The result with its value's and its displays' bundles rendered. */
  async renderResult(result: ExecuteResult): Promise<ExecuteResult> {
    if (!result.data && !result.displays) return result;
    const rendered = { ...result };
    if (result.data) rendered.data = await this.render(result.data);
    if (result.displays) {
      rendered.displays = [];
      for (const bundle of result.displays) rendered.displays.push(await this.render(bundle));
    }
    return rendered;
  }

  /**
   * One bundle, rendered: a raster image that fits is kept; one beyond the bounds is scaled
   * to a PNG; one whose bytes are not the image its type names is dropped; a bundle with no
   * raster image gets a PNG drawn from its first renderable entry. Whatever was done to an
   * image is said in {@linkcode NOTE_TYPE}; the other entries are kept as they are.
   */
  async render(bundle: MimeBundle): Promise<MimeBundle> {
    const raster = RASTER_TYPES.find((type) => typeof bundle[type] === "string");
    if (raster) return await this.#bounded(bundle, raster);
    for (const [type, renderer] of RENDERERS) {
      if (bundle[type] === undefined) continue;
      try {
        const painters = { rasterizer: this.#rasterizer, vega: this.#vega };
        const { raster, warning } = await renderer(bundle[type], painters, type);
        const note = [scaledNote(type, raster), warning].filter(Boolean).join("\n");
        return withImage(bundle, raster, note || undefined);
      } catch (error) {
        return { ...bundle, [NOTE_TYPE]: `[${type} not shown: ${(error as Error).message}]` };
      }
    }
    return bundle;
  }

  /** Ends the rasterizer's and the Vega renderer's Workers. */
  async close(): Promise<void> {
    await Promise.all([this.#rasterizer.close(), this.#vega.close()]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #bounded(bundle: MimeBundle, type: string): Promise<MimeBundle> {
    const { [type]: given, ...rest } = bundle;
    // Base64 wrapped in lines (as some libraries write it) is no valid MCP image data.
    const entry = (given as string).replace(/\s+/g, "");
    const bytes = decodeBase64(entry);
    const actual = bytes && imageType(bytes);
    const size = bytes && imageSize(bytes);
    if (!bytes || !actual || !size) {
      return {
        ...rest,
        "text/plain": bundle["text/plain"],
        [NOTE_TYPE]: `[${type} not shown: its data is no PNG, JPEG, GIF or WebP image in base64]`,
      };
    }
    const { maxSide, maxPixels, maxBytes } = this.#bounds;
    const fits = size.width <= maxSide && size.height <= maxSide &&
      size.width * size.height <= maxPixels && bytes.length <= maxBytes;
    // Bytes labelled with the wrong type are shown as what they are.
    if (fits) return { ...rest, "text/plain": bundle["text/plain"], [actual]: entry };
    try {
      // Drawn as an SVG of one image: resvg decodes PNG, JPEG, GIF and WebP and scales them.
      const drawn = await this.#rasterizer.rasterize(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">` +
          `<image href="data:${actual};base64,${entry}" width="${size.width}" ` +
          `height="${size.height}"/></svg>`,
      );
      return withImage(
        { ...rest, "text/plain": bundle["text/plain"] },
        drawn,
        `[${actual} of ${size.width}×${size.height} px, ${bytes.length} bytes, scaled to ` +
          `${drawn.width}×${drawn.height} px PNG to fit the model's image limits]`,
      );
    } catch (error) {
      return {
        ...rest,
        "text/plain": bundle["text/plain"],
        [NOTE_TYPE]: `[${actual} of ${size.width}×${size.height} px not shown: it is beyond ` +
          `the image limits and could not be scaled: ${(error as Error).message}]`,
      };
    }
  }
}

function withImage(bundle: MimeBundle, drawn: Raster, note: string | undefined): MimeBundle {
  return {
    ...bundle,
    "image/png": drawn.png.toBase64(),
    ...(note && { [NOTE_TYPE]: note }),
  };
}

function scaledNote(type: string, drawn: Raster): string | undefined {
  const { intrinsic } = drawn;
  if (drawn.width >= Math.floor(intrinsic.width) && drawn.height >= Math.floor(intrinsic.height)) {
    return undefined;
  }
  const w = Math.round(intrinsic.width);
  const h = Math.round(intrinsic.height);
  return `[${type} of ${w}×${h} px scaled to ${drawn.width}×${drawn.height} px to fit the ` +
    "model's image limits]";
}

function decodeBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    return undefined;
  }
}
