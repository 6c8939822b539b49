/**
 * A kernel's disk quota: the bytes and files its scratch folder may hold. Two layers: the
 * sandbox runs with a per-file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write past
 * it fails with "File too large" and the kernel lives), and the host measures the folder while
 * a cell runs (every {@linkcode QUOTA_CHECK_MS}) and after it, stopping a cell that makes it
 * grow past the quota. A folder already over it is said on every result until files go.
 *
 * @module
 */
import { join } from "node:path";

/** What a kernel's scratch folder may hold. */
export interface DiskQuota {
  bytes: number;
  files: number;
}

/** What a folder holds. */
export interface FolderUsage {
  bytes: number;
  files: number;
}

/** How often a running cell's folder is measured, in ms. */
export const QUOTA_CHECK_MS = 500;

/**
 * The bytes and files under `dir`, symbolic links counted as files and not followed. Stops
 * counting past `stopAfter` files (the answer is then only known to be over). A missing folder
 * holds nothing.
 */
export async function folderUsage(dir: string, stopAfter = Infinity): Promise<FolderUsage> {
  // Every cell measures its folder, nearly always a small one: synchronous calls measure it
  // ten times faster (2 µs instead of 20–30 for an empty folder, 13 instead of 60–90 for five
  // files), and a large one is walked without holding up the host.
  const small = smallFolderUsage(dir, stopAfter);
  if (small) return small;
  const usage = { bytes: 0, files: 0 };
  const pending = [dir];
  while (pending.length > 0 && usage.files <= stopAfter) {
    const folder = pending.pop()!;
    const files: string[] = [];
    try {
      for await (const entry of Deno.readDir(folder)) {
        const path = join(folder, entry.name);
        if (entry.isDirectory) pending.push(path);
        else files.push(path);
        // Past the count nothing more is needed: a folder that a loop keeps filling is never
        // walked to its end (measured: 100,000 files and 20 s of walking while the loop went on).
        if (usage.files + files.length > stopAfter) break;
      }
    } catch {
      // A folder that went, or was never made.
    }
    usage.files += files.length;
    if (usage.files > stopAfter) break;
    // Sizes are asked for in batches: one at a time, 10,000 files took seconds on a busy host.
    for (let i = 0; i < files.length; i += 64) {
      const sizes = await Promise.all(
        files.slice(i, i + 64).map((path) =>
          // Deleted while we looked: it holds nothing.
          Deno.lstat(path).then((info) => info.size, () => 0)
        ),
      );
      for (const size of sizes) usage.bytes += size;
    }
  }
  return usage;
}

/** A folder's listing above this size (in bytes, as `lstat` gives it) is read asynchronously. */
const SMALL_LISTING_BYTES = 16_384;
/** Files a synchronous walk measures before it gives way to the asynchronous one. */
const SMALL_FILES = 256;

/**
 * {@linkcode folderUsage} by synchronous calls, for a folder whose every listing is small (a
 * directory's size grows with its entries) and that holds at most {@linkcode SMALL_FILES}
 * files; `undefined` for any other, which the asynchronous walk then measures.
 */
function smallFolderUsage(dir: string, stopAfter: number): FolderUsage | undefined {
  const usage = { bytes: 0, files: 0 };
  const pending = [dir];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      if (Deno.lstatSync(folder).size > SMALL_LISTING_BYTES) return undefined;
      entries = [...Deno.readDirSync(folder)];
    } catch {
      // A folder that went, or was never made.
      continue;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) {
        pending.push(path);
        continue;
      }
      if (++usage.files > SMALL_FILES) return undefined;
      if (usage.files > stopAfter) return usage;
      try {
        usage.bytes += Deno.lstatSync(path).size;
      } catch {
        // Deleted while we looked: it holds nothing.
      }
    }
  }
  return usage;
}

/** Why `usage` breaks `quota`, in words; `undefined` when it fits. Pure. */
export function quotaBreach(usage: FolderUsage, quota: DiskQuota): string | undefined {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  if (usage.bytes > quota.bytes) {
    return `the kernel's folder holds ${mb(usage.bytes)}, over its disk quota of ` +
      `${mb(quota.bytes)} (--disk-quota): delete files to make room`;
  }
  if (usage.files > quota.files) {
    return `the kernel's folder holds more than ${quota.files.toLocaleString("en-US")} files ` +
      "(--max-files): delete some to make room";
  }
  return undefined;
}

/**
 * Watches a folder while a cell runs: calls `onBreach` once if the folder grows past the quota
 * (a folder over it before the cell may shrink, or stay as it was, without a breach).
 *
 * @param before What the folder held before the cell, as the last `stop` measured it (one walk
 *   a cell instead of two); measured now when not given.
 */
export function watchQuota(
  dir: string,
  quota: DiskQuota,
  onBreach: (reason: string) => void,
  before?: FolderUsage,
): { stop(): Promise<{ usage: FolderUsage; breach: string | undefined }> } {
  let breached = false;
  let checking: Promise<void> = before ? Promise.resolve() : (async () => {
    before = await folderUsage(dir, quota.files);
  })();
  const check = async () => {
    const now = await folderUsage(dir, quota.files);
    const grew = !before || now.bytes > before.bytes || now.files > before.files;
    const reason = quotaBreach(now, quota);
    if (reason && grew && !breached) {
      breached = true;
      onBreach(reason);
    }
  };
  const timer = setInterval(() => {
    checking = checking.then(check);
  }, QUOTA_CHECK_MS);
  return {
    /** Stops watching; resolves with what the folder holds now and why it is over, if it is. */
    async stop() {
      clearInterval(timer);
      await checking;
      const usage = await folderUsage(dir, quota.files);
      return { usage, breach: quotaBreach(usage, quota) };
    },
  };
}
