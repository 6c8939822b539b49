/**
 * What a MIME bundle shows a model, decided in one place: a raster image (PNG, JPEG, WebP,
 * GIF, the host having drawn SVG and Vega charts to PNG, see `render/bundle_renderer.ts`) as
 * MCP `image` content; otherwise text, from `text/markdown`, else `text/html` made readable, else
 * `text/plain`. As in a notebook, only the richest entry is shown.
 *
 * @module
 */
import type { ImageContent } from "@modelcontextprotocol/server";
import type { MimeBundle } from "../kernel/protocol.ts";
import { RASTER_TYPES } from "../kernel/worker/image_bytes.ts";
import { NOTE_TYPE } from "../render/bundle_renderer.ts";
import { htmlText } from "./html_text.ts";

/** A piece of a result: text, to be joined with the text beside it, or an image. */
export type ContentPart = string | ImageContent;

/** The MCP image a bundle shows, if it holds a raster image. */
export function bundleImage(bundle: MimeBundle): ImageContent | undefined {
  const type = RASTER_TYPES.find((t) => typeof bundle[t] === "string");
  return type && { type: "image", data: bundle[type] as string, mimeType: type };
}

/**
 * The text a model reads for a bundle: `text/markdown`, else the text of `text/html`, else
 * `text/plain`, else which types it holds that are not shown; a renderer's note, if any,
 * follows.
 */
export function bundleText(bundle: MimeBundle): string {
  const markdown = bundle["text/markdown"];
  const html = bundle["text/html"];
  const text = typeof markdown === "string"
    ? markdown
    : typeof html === "string"
    ? htmlText(html)
    : bundle["text/plain"];
  const note = bundle[NOTE_TYPE];
  if (typeof note === "string") return text === "" ? note : `${text}\n${note}`;
  const others = Object.keys(bundle).filter((t) => t !== "text/plain");
  return text === "" && others.length > 0 ? `[${others.join(", ")}: not shown]` : text;
}

/**
 * The parts a bundle shows: its image, after the renderer's note when there is one; or its
 * text (see {@linkcode bundleText}).
 *
 * @param label Text put before what the bundle shows, e.g. `Out[3]: `.
 */
export function bundleParts(bundle: MimeBundle, label = ""): ContentPart[] {
  const image = bundleImage(bundle);
  if (!image) return [`${label}${bundleText(bundle)}`];
  const note = bundle[NOTE_TYPE];
  const head = `${label}${typeof note === "string" ? note : ""}`.trimEnd();
  return head ? [head, image] : [image];
}
