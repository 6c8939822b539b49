/**
 * What a file of a kernel's scratch folder becomes in MCP: its `kernel://` URI, its MIME type,
 * and the content that carries it — text for UTF-8 text, `image` content for a PNG, JPEG, GIF
 * or WebP (told by magic bytes), an embedded resource with base64 `blob` for other bytes — in a
 * `download_file` result or a `resources/read` reply. Pure.
 *
 * The URI scheme is `kernel://{kernel}/files/{path}`: the files live in this host's kernels,
 * not on the client's disk (`file://` would invite a client to open the path locally), and a
 * scheme the URL standard does not know keeps the kernel id's case in the host part, where
 * `http:`-like schemes would lower-case a case-sensitive base64url id. `files/` leaves room for
 * other resources of a kernel.
 *
 * @module
 */
import type { CallToolResult, ReadResourceResult } from "@modelcontextprotocol/server";
import { imageType } from "../kernel/worker/image_bytes.ts";
import type { FileChunk } from "../scratch_files.ts";
import { OUTPUT_LIMIT } from "./text_budget.ts";

/** Bytes of a file one `download_file` result or `resources/read` reply carries at most. */
export const DOWNLOAD_LIMIT = 2 * 1024 * 1024;

/** The URI template of a kernel's files, as `resources/templates/list` shows it. */
export const FILE_URI_TEMPLATE = "kernel://{kernel}/files/{+path}";

/** The URI of file `path` (`/`-separated, relative) of kernel `kernel`, each segment encoded. */
export function fileUri(kernel: string, path: string): string {
  return `kernel://${kernel}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  txt: "text/plain",
  md: "text/markdown",
  json: "application/json",
  ndjson: "application/x-ndjson",
  html: "text/html",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  js: "text/javascript",
  ts: "text/typescript",
  xml: "application/xml",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  parquet: "application/vnd.apache.parquet",
};

/**
 * A file's MIME type: a raster type by its magic bytes, else by its extension, else
 * `text/plain` for text and `application/octet-stream` for other bytes.
 *
 * @param head The file's first bytes.
 */
export function mimeTypeOf(path: string, head: Uint8Array, isText: boolean): string {
  return imageType(head) ?? mimeTypeByExtension(path) ??
    (isText ? "text/plain" : "application/octet-stream");
}

/** The MIME type a file's extension says, for a listing that reads no file; or `undefined`. */
export function mimeTypeByExtension(path: string): string | undefined {
  const extension = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : MIME_BY_EXTENSION[extension];
}

/** A chunk's bytes as text, or `undefined` for bytes that are not NUL-free UTF-8. */
interface TextSpan {
  text: string;
  /** Where the text starts and ends in the file, after cutting at character boundaries. */
  start: number;
  end: number;
}

/**
 * The text of a chunk that may start or end inside a UTF-8 character: up to three
 * continuation bytes are skipped at a start other than the file's, and a character cut at an
 * end other than the file's is left for the next chunk. `undefined` for binary bytes.
 */
export function textSpan(chunk: FileChunk): TextSpan | undefined {
  const { bytes, offset, size } = chunk;
  if (bytes.includes(0)) return undefined;
  let start = 0;
  if (offset > 0) {
    while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  }
  let end = bytes.length;
  if (offset + bytes.length < size) {
    for (let i = end - 1; i >= Math.max(start, end - 4); i--) {
      const b = bytes[i]!;
      if ((b & 0xc0) === 0x80) continue;
      const width = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (end - i < width) end = i;
      break;
    }
  }
  // A range shorter than the one character in it: its bytes are sent as they are.
  if (end === start && bytes.length > 0) return undefined;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, end));
    return { text, start: offset + start, end: offset + end };
  } catch {
    return undefined;
  }
}

/**
 * Characters of a result's budget kept for what is not the file's text: the first line, and the
 * other fields of the structured view.
 */
const HEAD_ROOM = 500;

/**
 * The `download_file` result for a chunk: a line saying what the file is and which bytes came,
 * with where to continue when more remain, then the file's text, image or bytes. An image is
 * sent as `image` content only whole; its pieces come as bytes. Text comes at most the output
 * budget a call (`limit` characters, the text as JSON counted, so that the structured view fits
 * too), cut at a character; the structured view says where the page ends and the next begins.
 *
 * @param options.limit The output budget in characters (default {@linkcode OUTPUT_LIMIT}).
 */
export function downloadResult(
  kernel: string,
  chunk: FileChunk,
  options: { limit?: number } = {},
): CallToolResult {
  const limit = options.limit ?? OUTPUT_LIMIT;
  const { path, size, offset, bytes } = chunk;
  const span = textSpan(chunk);
  const mimeType = mimeTypeOf(path, chunk.head, span !== undefined);
  const whole = offset === 0 && bytes.length === size;
  const raster = whole && imageType(chunk.head) !== undefined;
  const text = span && !raster ? page(span, Math.max(2, limit - HEAD_ROOM)) : undefined;
  const start = text ? text.start : offset;
  const end = text ? text.end : offset + bytes.length;
  const kind = raster ? "image" : text ? "text" : "binary, as base64";
  const lines = [`${path}: ${count(size)} bytes, ${mimeType} (${kind}).`];
  if (start === 0 && end === size) {
    lines[0] += " The whole file follows.";
  } else {
    const budget = text && text.end < span!.end
      ? `, cut at the output budget of ${count(limit)} characters per result`
      : "";
    lines.push(`Bytes ${count(start)} to ${count(end)} (end excluded) follow${budget}.`);
    if (end < size) {
      const most = text
        ? `text comes at most ${count(limit)} characters per call`
        : `at most ${count(DOWNLOAD_LIMIT)} bytes per call`;
      lines.push(
        `${count(size - end)} bytes remain: call download_file again with offset ${end} ` +
          `(${most}).`,
      );
    }
  }
  const head = { type: "text" as const, text: lines.join(" ") };
  if (raster) {
    return { content: [head, { type: "image", mimeType, data: bytes.toBase64() }] };
  }
  if (text) {
    return {
      content: [head, { type: "text", text: text.text }],
      structuredContent: {
        kernel,
        path,
        size,
        mime_type: mimeType,
        offset: start,
        end,
        ...(end < size && { next_offset: end, remaining_bytes: size - end }),
        text: text.text,
      },
    };
  }
  return {
    content: [head, {
      type: "resource",
      resource: { uri: fileUri(kernel, path), mimeType, blob: bytes.toBase64() },
    }],
  };
}

/**
 * The head of `span` whose text, as a JSON string, takes at most `budget` characters, cut
 * between characters (never inside a surrogate pair), with its end in the file's bytes.
 */
function page(span: TextSpan, budget: number): TextSpan {
  const { text } = span;
  let used = 2; // the quotes
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff;
    const width = pair ? 2 : jsonWidth(c);
    if (used + width > budget && i > 0) break;
    used += width;
    i += pair ? 2 : 1;
  }
  if (i >= text.length) return span;
  const head = text.slice(0, i);
  return { text: head, start: span.start, end: span.start + new TextEncoder().encode(head).length };
}

/** Characters JSON.stringify writes for one UTF-16 unit that is no surrogate. */
function jsonWidth(c: number): number {
  if (SHORT_ESCAPES.has(c)) return 2;
  return c < 0x20 ? 6 : 1;
}

/** `"`, `\\`, and the control characters JSON writes as `\b`, `\t`, `\n`, `\f`, `\r`. */
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/** The `resources/read` reply for a whole file: its text, or its bytes as a base64 blob. */
export function resourceContents(uri: string, chunk: FileChunk): ReadResourceResult {
  const text = textSpan(chunk);
  const mimeType = mimeTypeOf(chunk.path, chunk.head, text !== undefined);
  return {
    contents: [
      text && !imageType(chunk.head)
        ? { uri, mimeType, text: text.text }
        : { uri, mimeType, blob: chunk.bytes.toBase64() },
    ],
  };
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
