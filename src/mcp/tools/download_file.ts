/**
 * The `download_file` tool: reads a file of a kernel's scratch folder, by pages when large.
 *
 * @module
 */
import { z } from "zod";
import { readScratchFile } from "../../scratch_files.ts";
import { DOWNLOAD_LIMIT, downloadResult } from "../file_content.ts";
import { defineTool, kernelArg } from "./tool.ts";

/**
 * A file as text, at most the output budget a call, or an image or base64 bytes, at most
 * {@linkcode DOWNLOAD_LIMIT} a call.
 */
export const downloadFile = defineTool({
  name: "download_file",
  title: "Download a file",
  description: (host) =>
    "Reads a file from the kernel's folder (its working directory): UTF-8 text as text, a " +
    "PNG, JPEG, GIF or WebP image as an image, other files as an embedded resource with " +
    `base64 bytes. Text comes at most ${host.outputLimit} characters per call (the output ` +
    `budget), other files at most ${DOWNLOAD_LIMIT} bytes (2 MiB); when more remain, the first ` +
    "line (and next_offset in the structured result) gives the offset to continue from, and " +
    "the pages joined are the file. To look at a large file, prefer a small `length`, or read " +
    "a part of it with execute.",
  inputSchema: {
    path: z.string().describe('The file, relative to the kernel\'s folder, e.g. "out/plot.png"'),
    offset: z.number().int().min(0).optional().describe("First byte to return (default 0)"),
    length: z.number().int().min(1).max(DOWNLOAD_LIMIT).optional().describe(
      `How many bytes at most (default and maximum ${DOWNLOAD_LIMIT})`,
    ),
    kernel: kernelArg,
  },
  annotations: { readOnlyHint: true },
  async handler({ path, offset, length, kernel }, { host, caller }) {
    const id = await host.resolveKernel(caller, kernel);
    const chunk = await host.useFiles(
      id,
      (folder) => readScratchFile(folder, path, { offset, length: length ?? DOWNLOAD_LIMIT }),
      { writes: false },
    );
    return downloadResult(id, chunk, { limit: host.outputLimit });
  },
});
