/**
 * Where a kernel's files live on disk: `<data>/kernels/<id>/`, with its scratch folder `files/`
 * inside, the only place its sandbox may read and write. Used by the host and the operator's
 * `sessions` CLI.
 *
 * @module
 */
import { join } from "node:path";

/** The folder that holds everything of kernel `id`. */
export function kernelFolder(dataDir: string, id: string): string {
  return join(dataDir, "kernels", id);
}

/** The kernel's scratch folder: its working directory and only readable, writable place. */
export function scratchFolder(dataDir: string, id: string): string {
  return join(kernelFolder(dataDir, id), "files");
}

/** Deletes a kernel's folder and everything in it; a missing folder is not an error. */
export async function removeKernelFolder(dataDir: string, id: string): Promise<void> {
  await Deno.remove(kernelFolder(dataDir, id), { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}
