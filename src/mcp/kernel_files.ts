/**
 * The files of kernels' scratch folders as MCP resources: one template,
 * `kernel://{kernel}/files/{+path}` (see `file_content.ts` for why that scheme), whose
 * `resources/list` shows the files of the kernels the caller may use — a legacy session's
 * kernels, a stdio connection's — and nothing without a session (2026-07-28 over HTTP), where
 * the template alone is listed; `resources/read` reads any file of a kernel the caller can
 * address by handle, with the access rules of `Host.resolveKernel` and the path rules of
 * `scratch_paths.ts`.
 *
 * @module
 */
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type Resource,
  ResourceNotFoundError,
  ResourceTemplate,
} from "@modelcontextprotocol/server";
import { type Caller, type Host, KernelNotFoundError } from "../host.ts";
import { readScratchFile } from "../scratch_files.ts";
import { ScratchPathError } from "../scratch_paths.ts";
import {
  DOWNLOAD_LIMIT,
  FILE_URI_TEMPLATE,
  fileUri,
  mimeTypeByExtension,
  resourceContents,
} from "./file_content.ts";

/** Files `resources/list` shows at most, over all of the caller's kernels. */
export const LISTED_FILES = 1000;

/**
 * Registers the kernel files template on `server` for one caller.
 *
 * @param ctx.host Where the files and the access rules are.
 * @param ctx.caller Whose kernels are listed and addressable.
 */
export function registerKernelFiles(
  server: McpServer,
  ctx: { host: Host; caller: Caller },
): void {
  const { host, caller } = ctx;
  const template = new ResourceTemplate(FILE_URI_TEMPLATE, {
    list: async () => {
      const resources: Resource[] = [];
      for (const { kernel } of await host.listKernelsFor(caller)) {
        const left = LISTED_FILES - resources.length;
        if (left <= 0) break;
        // Listed without starting the kernel (one that never ran has no files).
        for (const file of await host.listFiles(kernel, left)) {
          const mimeType = mimeTypeByExtension(file.path);
          resources.push({
            uri: fileUri(kernel, file.path),
            name: file.path,
            title: `${file.path} (kernel ${kernel.slice(0, 8)}…)`,
            ...(mimeType && { mimeType }),
            size: file.size,
          });
        }
      }
      return { resources };
    },
  });
  server.registerResource("kernel-files", template, {
    title: "Kernel files",
    description: "A file in a kernel's folder (its working directory), by kernel handle and " +
      `path. A read returns the whole file, at most ${DOWNLOAD_LIMIT} bytes; download_file ` +
      "pages through larger ones.",
  }, async (uri, variables) => {
    const kernel = decode(variables.kernel);
    const path = decode(variables.path);
    try {
      const id = await host.resolveKernel(caller, kernel);
      const chunk = await host.useFiles(
        id,
        (folder) => readScratchFile(folder, path, { length: DOWNLOAD_LIMIT }),
        { writes: false },
      );
      if (chunk.bytes.length < chunk.size) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `${path} has ${chunk.size} bytes, more than one read carries (${DOWNLOAD_LIMIT}): ` +
            "page through it with the download_file tool's offset and length",
        );
      }
      return resourceContents(uri.href, chunk);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      if (error instanceof ScratchPathError || error instanceof RangeError) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
      }
      if (error instanceof KernelNotFoundError || error instanceof Deno.errors.NotFound) {
        throw new ResourceNotFoundError(uri.href, `${error.message} (${uri.href})`);
      }
      throw error;
    }
  });
}

/** A template variable as the URI matched it, percent-decoding undone. */
function decode(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? value.join(",") : value ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Bad percent-encoding in ${raw}`);
  }
}
