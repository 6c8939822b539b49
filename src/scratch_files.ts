/**
 * A kernel's scratch folder as the host reads and writes it for a client: a file's bytes by
 * range, a positioned write, and the folder's files. Every path passes `scratch_paths.ts`.
 *
 * @module
 */
import { join } from "node:path";
import { resolveForRead, resolveForWrite } from "./scratch_paths.ts";

/** A range of one file's bytes, as {@linkcode readScratchFile} read it. */
export interface FileChunk {
  /** The path as the client gave it. */
  path: string;
  /** The file's size in bytes. */
  size: number;
  /** Where `bytes` start in the file. */
  offset: number;
  bytes: Uint8Array;
  /** The file's first bytes (up to 16), for telling its type by magic bytes. */
  head: Uint8Array;
}

/** How many bytes a file's head holds: enough for every magic number `imageType` reads. */
const HEAD_BYTES = 16;

/**
 * Reads up to `length` bytes of a file from `offset`.
 *
 * @param root The scratch folder.
 * @param options.offset Where to start, in bytes (default 0); at most the file's size.
 * @param options.length How many bytes at most.
 * @throws {ScratchPathError} When the path breaks the folder's rules.
 * @throws {Deno.errors.NotFound} When there is no such file.
 * @throws {RangeError} When `offset` is past the end of the file, or the path is a folder.
 */
export async function readScratchFile(
  root: string,
  path: string,
  options: { offset?: number; length: number },
): Promise<FileChunk> {
  const real = await resolveForRead(root, path);
  using file = await Deno.open(real, { read: true });
  const info = await file.stat();
  if (!info.isFile) throw new RangeError(`Cannot read ${JSON.stringify(path)}: it is a folder`);
  const offset = options.offset ?? 0;
  if (offset > info.size) {
    throw new RangeError(
      `Cannot read ${JSON.stringify(path)} from offset ${offset}: the file has ${info.size} bytes`,
    );
  }
  const head = await readAt(file, 0, Math.min(HEAD_BYTES, info.size));
  const bytes = await readAt(file, offset, Math.min(options.length, info.size - offset));
  return { path, size: info.size, offset, bytes, head };
}

/**
 * Writes `bytes` into a file: without `offset` the file is created or replaced; with one, the
 * bytes go at that position (the file's size appends) and the rest of the file stays.
 *
 * @param root The scratch folder, created if missing.
 * @returns The file's size after the write.
 * @throws {ScratchPathError} When the path breaks the folder's rules.
 * @throws {RangeError} When `offset` is past the end of the file (a write leaves no holes).
 */
export async function writeScratchFile(
  root: string,
  path: string,
  bytes: Uint8Array,
  options: { offset?: number } = {},
): Promise<number> {
  const target = await resolveForWrite(root, path);
  const { offset } = options;
  using file = await Deno.open(target, {
    write: true,
    create: offset === undefined || offset === 0,
    truncate: offset === undefined,
  }).catch((error) => {
    if (error instanceof Deno.errors.NotFound) {
      throw new RangeError(
        `Cannot write ${JSON.stringify(path)} at offset ${offset}: the file does not exist ` +
          `yet; send its first chunk without an offset`,
      );
    }
    throw error;
  });
  if (offset !== undefined) {
    const size = (await file.stat()).size;
    if (offset > size) {
      throw new RangeError(
        `Cannot write ${JSON.stringify(path)} at offset ${offset}: the file has ${size} bytes; ` +
          `write at ${size} to append`,
      );
    }
    await file.seek(offset, Deno.SeekMode.Start);
  }
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
  return (await file.stat()).size;
}

/** One file of a scratch folder. */
export interface ScratchFile {
  /** Relative to the folder, with `/` between segments. */
  path: string;
  size: number;
}

/**
 * The regular files under a scratch folder, at most `limit`, in name order folder by folder;
 * symbolic links are not followed. A missing folder has none.
 */
export async function listScratchFiles(
  root: string,
  options: { limit: number },
): Promise<ScratchFile[]> {
  const files: ScratchFile[] = [];
  async function walk(folder: string, prefix: string): Promise<void> {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(folder)) entries.push(entry);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      if (files.length >= options.limit) return;
      const path = prefix + entry.name;
      if (entry.isDirectory) await walk(join(folder, entry.name), `${path}/`);
      else if (entry.isFile) {
        const size = await Deno.lstat(join(folder, entry.name)).then((i) => i.size, () => null);
        if (size !== null) files.push({ path, size });
      }
    }
  }
  await walk(root, "");
  return files;
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  for (let done = 0; done < length;) {
    const n = await file.read(bytes.subarray(done));
    if (n === null) return bytes.subarray(0, done);
    done += n;
  }
  return bytes;
}
