/**
 * Where a kernel's files live on disk. A kernel's scratch folder, the only place its sandbox may
 * read and write, is `<data>/slots/<slot>/files`: a sandbox's permission flags name its folder
 * when it starts, so a spare sandbox, started before any kernel asks, gets a folder slot of its
 * own, and the kernel it is bound to keeps that slot for life (recorded in the registry). A
 * slot is a random name, unrelated to the kernel id, so no sandbox's command line carries an id.
 *
 * Kernels of earlier versions have their files in `<data>/kernels/<id>/files`: at the kernel's
 * next start they move (a rename) into a new slot, recorded first, so that no sandbox path names
 * a kernel id; a kernel that has no files there gets a slot at its first start as any other.
 *
 * Used by the host and the operator's `sessions` CLI.
 *
 * @module
 */
import { join } from "node:path";
import { encodeBase64Url } from "./ids.ts";

/** What locates a kernel's folder: its id and its slot (`null`: none yet, or the old layout). */
export type FolderOwner = { id: string; slot: string | null };

/** A new slot name: 128 random bits in base64url, safe as a path segment. */
export function newSlot(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

/** The folder of a slot; its `files/` is the scratch folder of the sandbox started for it. */
export function slotFolder(dataDir: string, slot: string): string {
  return join(dataDir, "slots", slot);
}

/** The scratch folder of a sandbox started for `slot`. */
export function slotScratch(dataDir: string, slot: string): string {
  return join(slotFolder(dataDir, slot), "files");
}

/** The kernel's scratch folder: its working directory and only readable, writable place. */
export function scratchFolder(dataDir: string, kernel: FolderOwner): string {
  return kernel.slot === null
    ? join(legacyFolder(dataDir, kernel.id), "files")
    : slotScratch(dataDir, kernel.slot);
}

/** Whether kernel `id` has files in the old layout, `<data>/kernels/<id>/files`. */
export async function hasLegacyFiles(dataDir: string, id: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(join(legacyFolder(dataDir, id), "files"))) return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return false;
}

/**
 * Moves kernel `id`'s files of the old layout into `slot`'s folder: one rename, then the empty
 * old folder is removed. Record the slot before calling: a move cut short by a crash is then
 * finished at the next start (the files are still in the old folder, the slot is known).
 *
 * @throws {Error} When the slot's folder already holds files (nothing is moved then).
 */
export async function moveLegacyFolder(dataDir: string, id: string, slot: string): Promise<void> {
  const target = slotScratch(dataDir, slot);
  await Deno.mkdir(slotFolder(dataDir, slot), { recursive: true });
  try {
    // Not recursive: only an empty folder goes.
    await Deno.remove(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      // Nothing there: the usual case.
    } else if ((error as { code?: string }).code === "ENOTEMPTY") {
      throw new Error(
        `Cannot move a kernel's files of the old layout into its folder slot: ${target} ` +
          "already holds files",
      );
    } else throw error;
  }
  await Deno.rename(join(legacyFolder(dataDir, id), "files"), target);
  await removeEmptyLegacyFolder(dataDir, id);
}

/** Removes kernel `id`'s old-layout folder if it holds nothing (every sandbox once made one). */
export async function removeEmptyLegacyFolder(dataDir: string, id: string): Promise<void> {
  const folder = legacyFolder(dataDir, id);
  // Not recursive: a file written meanwhile keeps the folder.
  await Deno.remove(join(folder, "files")).catch(() => {});
  await Deno.remove(folder).catch(() => {});
}

/** Deletes a kernel's folder and everything in it; a missing folder is not an error. */
export async function removeKernelFolder(dataDir: string, kernel: FolderOwner): Promise<void> {
  const folder = kernel.slot === null
    ? legacyFolder(dataDir, kernel.id)
    : slotFolder(dataDir, kernel.slot);
  await Deno.remove(folder, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

function legacyFolder(dataDir: string, id: string): string {
  return join(dataDir, "kernels", id);
}
