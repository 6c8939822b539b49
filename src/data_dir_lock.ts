/**
 * An exclusive, process-wide hold on a data folder for the HTTP server, so that two HTTP hosts
 * never serve the same sessions from one registry (both would run the same kernels and the last
 * saver would win). Stdio servers and `deno task sessions` do not take it: they share the folder
 * (a named stdio kernel has its own lock, see `name_lock.ts`). The lock is the operating system's
 * (`flock`), released when the process ends however it ends.
 *
 * @module
 */
import { ensurePrivateFolder } from "./private_files.ts";
import { join } from "node:path";

/** How long to wait before deciding that another live process holds the lock. */
const ATTEMPT_MS = 300;

/** The lock file's name inside the data folder; it holds the holder's pid. */
export const DATA_DIR_LOCK = "http.lock";

/** Thrown when another live process serves HTTP from the data folder. */
export class DataDirInUseError extends Error {
  /**
   * @param dataDir The folder asked for.
   * @param pid The holder's process id, when the lock file names it.
   */
  constructor(dataDir: string, pid?: number) {
    super(
      `Cannot serve HTTP from --data-dir ${dataDir}: another mcp-kernel-host HTTP server` +
        `${pid === undefined ? "" : ` (pid ${pid})`} is serving it; stop that server or ` +
        "choose another --data-dir",
    );
    this.name = "DataDirInUseError";
  }
}

/**
 * Takes the HTTP lock of `dataDir` (creating the folder), writes this process's pid into it and
 * holds it until the returned file is closed or the process exits.
 *
 * @throws {DataDirInUseError} When another process holds it.
 * @throws {Error} When the folder or the lock file cannot be created.
 */
export async function lockDataDir(dataDir: string): Promise<Deno.FsFile> {
  await ensurePrivateFolder(dataDir);
  const path = join(dataDir, DATA_DIR_LOCK);
  // Not truncated on open: the pid in it belongs to the holder until this process holds the lock.
  const file = await Deno.open(path, { create: true, read: true, write: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const held = await Promise.race([
    file.lock(true).then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ATTEMPT_MS)),
  ]);
  clearTimeout(timer);
  // Leaving the pending lock call behind is fine: the caller exits on this error.
  if (!held) throw new DataDirInUseError(dataDir, await holderPid(path));
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}

async function holderPid(path: string): Promise<number | undefined> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return /^\d+\s*$/.test(text) ? Number(text) : undefined;
}
