/**
 * The `upload_file` tool: writes a file into a kernel's scratch folder, whole or by chunks.
 *
 * @module
 */
import { z } from "zod";
import { writeScratchFile } from "../../scratch_files.ts";
import { textResult } from "../content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/**
 * Bytes of file one call should carry at most: their base64 (a third more) and the request
 * around it stay under the 4 MiB HTTP body limit (`MAX_BODY_BYTES` in `../http.ts`).
 */
export const UPLOAD_CHUNK_BYTES = 3_000_000;

/** Writes text or base64 bytes into a file of the kernel's folder, replacing it or at `offset`. */
export const uploadFile = defineTool({
  name: "upload_file",
  title: "Upload a file",
  description: "Writes a file into the kernel's folder (its working directory), where cells " +
    'read it, e.g. await Deno.readTextFile("data.csv"). Give `text` (written as UTF-8) or ' +
    "`base64` (bytes). Without `offset` the file is created or replaced; with `offset` the " +
    "bytes are written at that position and the rest of the file is kept, so the file's size " +
    "appends. One request carries at most 4 MiB over HTTP, so send at most " +
    `${UPLOAD_CHUNK_BYTES.toLocaleString("en-US")} bytes (about 3 MB) of file per call as ` +
    "base64: a larger file goes in chunks, the first without offset and each next one at the " +
    "size the previous call reported. Paths are relative with / between folders (missing " +
    "folders are created); absolute paths, .. and symbolic links are refused.",
  inputSchema: {
    path: z.string().describe('Where to write, relative to the kernel\'s folder, e.g. "data.csv"'),
    text: z.string().optional().describe("The content as text, written as UTF-8"),
    base64: z.string().optional().describe("The content as base64 bytes"),
    offset: z.number().int().min(0).optional().describe(
      "Write at this byte position (at most the file's size) instead of replacing the file",
    ),
    kernel: kernelArg,
  },
  outputSchema: {
    path: z.string(),
    kernel: z.string(),
    bytes_written: z.number().int(),
    size: z.number().int(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async handler({ path, text, base64, offset, kernel }, { host, caller }) {
    if ((text === undefined) === (base64 === undefined)) {
      throw new TypeError("Cannot upload: give exactly one of `text` and `base64`");
    }
    const bytes = text !== undefined ? new TextEncoder().encode(text) : decode(base64!);
    const id = await host.resolveKernel(caller, kernel);
    const size = await host.useFiles(
      id,
      (folder) => writeScratchFile(folder, path, bytes, { offset }),
      { writes: true },
    );
    const at = offset === undefined ? "" : ` at offset ${offset}`;
    return textResult(
      `Wrote ${bytes.length} bytes to ${path}${at}; the file has ${size} bytes now.`,
      { path, kernel: id, bytes_written: bytes.length, size },
    );
  },
});

function decode(base64: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(base64.replace(/\s+/g, ""));
  } catch (error) {
    throw new TypeError(`Cannot upload: \`base64\` is not valid base64 (${error})`);
  }
}
