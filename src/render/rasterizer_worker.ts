/**
 * Entry point of the host's rasterizer Worker (started by `svg_rasterizer.ts`): draws SVG to PNG
 * with resvg's WebAssembly build, one request at a time. It runs off the host's main thread
 * because a drawing blocks its thread for milliseconds to seconds, and so that a drawing that
 * panics (resvg aborts on a canvas it cannot allocate) or hangs can be ended with its Worker.
 * Text is drawn in the fonts of `fonts.ts`.
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { type FontOptions, loadFonts } from "./fonts.ts";
import { fitBytes, fitRaster, type RasterBounds } from "./raster_bounds.ts";

/** A drawing to make. */
export interface RasterRequest {
  id: number;
  svg: string;
  bounds: RasterBounds;
  /** A CSS colour under the drawing; without it, what the SVG leaves bare stays transparent. */
  background?: string;
}

/** What became of one {@linkcode RasterRequest}. */
export type RasterReply =
  | {
    id: number;
    ok: true;
    png: Uint8Array;
    width: number;
    height: number;
    /** The size the SVG declares, before any scaling to the bounds. */
    intrinsic: { width: number; height: number };
  }
  | { id: number; ok: false; message: string };

const scope = self as unknown as Worker;

const ready = (async () => {
  await initWasm(
    await Deno.readFile(new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"))),
  );
  return await loadFonts();
})();

scope.addEventListener("message", async (event: MessageEvent<RasterRequest>) => {
  const { id, svg, bounds, background } = event.data;
  let reply: RasterReply;
  try {
    reply = { id, ok: true, ...draw(svg, bounds, await ready, background) };
  } catch (error) {
    reply = { id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  scope.postMessage(reply, reply.ok ? [reply.png.buffer as ArrayBuffer] : []);
});

function draw(svg: string, bounds: RasterBounds, font: FontOptions, background?: string) {
  const parsed = new Resvg(svg, { font });
  const intrinsic = { width: parsed.width, height: parsed.height };
  parsed.free();
  // The canvas is bounded before it is allocated: resvg aborts on one too large.
  let size = fitRaster(intrinsic, bounds);
  for (let attempt = 0;; attempt++) {
    const resvg = new Resvg(svg, {
      font,
      fitTo: { mode: "width", value: size.width },
      ...(background && { background }),
    });
    const image = resvg.render();
    const png = image.asPng();
    const drawn = { width: image.width, height: image.height };
    image.free();
    resvg.free();
    if (png.length <= bounds.maxBytes) return { png, ...drawn, intrinsic };
    if (attempt === 2) {
      throw new RangeError(
        `the PNG is ${png.length} bytes at ${drawn.width}×${drawn.height}, more than ` +
          `${bounds.maxBytes} even scaled down`,
      );
    }
    size = fitBytes(drawn, png.length, bounds.maxBytes);
  }
}
