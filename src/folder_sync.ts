/**
 * Scratch files that travel with their kernel between the hosts of a shared registry (see
 * `supervisor/scratch_sync.ts`). A save sends only files whose size or modification time
 * changed since the registry last had them, and removes those deleted; files beyond the disk
 * quota, or larger than {@linkcode MAX_TRAVELLING_FILE}, are left out and named in the save
 * report. A restore writes the saved files that the folder lacks or holds in another version,
 * with their saved modification time (so the next save does not send them back). When the
 * kernel comes from another holder, files in the folder that are not among the saved ones (left
 * from an earlier stay on this host, or written after the last save before a crash) are removed,
 * so the folder matches the snapshot; otherwise they are left as they are.
 *
 * @module
 */
import { dirname, join, relative, sep } from "node:path";
import { scratchFolder } from "./kernel_folder.ts";
import type { FileChanges, Registry, SkippedItem, StoredFile } from "./registry/registry.ts";
import type { ScratchSync } from "./supervisor/scratch_sync.ts";

/** The largest file that moves with its kernel: each is read whole and sent as one value. */
export const MAX_TRAVELLING_FILE = 64 * 2 ** 20;

/** How many bytes of changed files one registry write carries at most (one file may exceed). */
const BATCH_BYTES = 64 * 2 ** 20;

interface LocalFile {
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

/**
 * Keeps kernels' scratch folders under `dataDir` in the registry.
 *
 * @param options.quotaBytes The per-kernel disk quota: at most this much is saved per kernel.
 */
export function folderSync(options: { dataDir: string; quotaBytes: number }): ScratchSync {
  return {
    async save(kernelId, store, fence) {
      const dir = await folderOf(store, options.dataDir, kernelId);
      if (!dir) return [];
      const stored = new Map((await store.listFiles(kernelId)).map((f) => [f.path, f]));
      const skipped: SkippedItem[] = [];
      const kept = new Set<string>();
      let total = 0;
      let batch: FileChanges = { put: [], remove: [] };
      let batchBytes = 0;
      for (const file of await scan(dir, skipped)) {
        const name = `files/${file.path}`;
        if (file.size > MAX_TRAVELLING_FILE) {
          skipped.push({
            path: name,
            reason: `${mb(file.size)} is more than the ${
              mb(MAX_TRAVELLING_FILE)
            } a file may be to move with its kernel`,
          });
          continue;
        }
        if (total + file.size > options.quotaBytes) {
          skipped.push({
            path: name,
            reason: `past the disk quota (${mb(options.quotaBytes)}) of the files kept with it`,
          });
          continue;
        }
        total += file.size;
        kept.add(file.path);
        const old = stored.get(file.path);
        if (old && old.size === file.size && old.mtimeMs === file.mtimeMs) continue;
        let bytes: Uint8Array;
        try {
          bytes = await Deno.readFile(file.abs);
        } catch (error) {
          skipped.push({ path: name, reason: `cannot be read: ${(error as Error).message}` });
          kept.delete(file.path);
          continue;
        }
        batch.put.push({ ...file, size: bytes.length, sha256: await sha256(bytes), bytes });
        batchBytes += bytes.length;
        if (batchBytes >= BATCH_BYTES) {
          await store.saveFiles(kernelId, batch, { fence });
          batch = { put: [], remove: [] };
          batchBytes = 0;
        }
      }
      batch.remove = [...stored.keys()].filter((path) => !kept.has(path));
      if (batch.put.length + batch.remove.length > 0) {
        await store.saveFiles(kernelId, batch, { fence });
      }
      return skipped;
    },

    async restore(kernelId, store, { exact }) {
      const saved = await store.listFiles(kernelId);
      if (saved.length === 0 && !exact) return undefined;
      const dir = await folderOf(store, options.dataDir, kernelId);
      if (!dir) return undefined;
      const local = new Map((await scan(dir, [])).map((f) => [f.path, f]));
      const failed: string[] = [];
      if (exact) {
        const kept = new Set(saved.map((f) => f.path));
        for (const file of local.values()) {
          if (!kept.has(file.path)) await Deno.remove(file.abs).catch(() => {});
        }
      }
      for (const file of saved) {
        const have = local.get(file.path);
        if (have && have.size === file.size && have.mtimeMs === file.mtimeMs) continue;
        try {
          await writeBack(store, kernelId, dir, file);
        } catch (error) {
          failed.push(`${file.path} (${(error as Error).message})`);
        }
      }
      return failed.length > 0
        ? `scratch files not restored: ${failed.slice(0, 20).join(", ")}` +
          (failed.length > 20 ? ` and ${failed.length - 20} more` : "")
        : undefined;
    },
  };
}

/** The kernel's scratch folder on this host; `undefined` while it has none. */
async function folderOf(
  store: Registry,
  dataDir: string,
  kernelId: string,
): Promise<string | undefined> {
  const record = await store.getKernel(kernelId);
  return record && record.slot !== null ? scratchFolder(dataDir, record) : undefined;
}

async function writeBack(
  store: Registry,
  kernelId: string,
  dir: string,
  file: StoredFile,
): Promise<void> {
  // The path comes from the registry: it must stay inside the folder.
  const parts = file.path.split("/");
  if (file.path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error("its saved path leaves the folder");
  }
  const bytes = await store.loadFile(kernelId, file.path);
  if (!bytes) throw new Error("its content is missing from the registry");
  const abs = join(dir, ...parts);
  await Deno.mkdir(dirname(abs), { recursive: true });
  await Deno.writeFile(abs, bytes);
  await Deno.utime(abs, new Date(file.mtimeMs), new Date(file.mtimeMs));
}

/** The regular files under `dir`, by path; other entries (links, devices) go to `skipped`. */
async function scan(dir: string, skipped: SkippedItem[]): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const walk = async (folder: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const abs = join(folder, entry.name);
      const path = relative(dir, abs).split(sep).join("/");
      if (entry.isDirectory) {
        await walk(abs);
      } else if (entry.isFile) {
        const info = await Deno.lstat(abs);
        files.push({ path, abs, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 });
      } else {
        skipped.push({ path: `files/${path}`, reason: "not a regular file (a link, say)" });
      }
    }
  };
  await walk(dir);
  return files.sort((a, b) => a.path < b.path ? -1 : 1);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e5) / 10} MB`;
}
