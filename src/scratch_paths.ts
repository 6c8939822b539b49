/**
 * The path policy of a kernel's scratch folder as the host reads and writes it for a client
 * (`upload_file`, `download_file`, resources). The host has permission everywhere under its
 * data folder, so these checks are the boundary: a path is relative, has no `..`, and does not
 * lead out of the folder through a symbolic link; writes go through no symbolic link at all.
 *
 * A cell cannot plant a symbolic link between a check and the host's open: Deno lets only a
 * process with unscoped read and write permission create one, and a sandbox has neither.
 *
 * @module
 */
import { join, sep } from "node:path";

/** Thrown when a path breaks the scratch folder's rules; the message names the rule. */
export class ScratchPathError extends Error {
  /** @param message Names the path and the rule it breaks. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ScratchPathError";
  }
}

/**
 * The segments of a path relative to the scratch folder, `.` and empty segments dropped;
 * pure.
 *
 * @throws {ScratchPathError} For an empty, absolute or `..` path, a backslash or a NUL, or a
 *   path that names the folder itself.
 * @example
 * ```ts
 * scratchSegments("out/./plot.png"); // ["out", "plot.png"]
 * scratchSegments("../etc/passwd"); // throws: contains ".."
 * ```
 */
export function scratchSegments(path: string): string[] {
  const shown = JSON.stringify(path);
  if (path === "") {
    throw new ScratchPathError(
      "The path is empty: name a file in the kernel's folder, e.g. data.csv",
    );
  }
  if (path.includes("\0")) throw new ScratchPathError(`Path ${shown} contains a NUL character`);
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) {
    throw new ScratchPathError(
      `Path ${shown} is absolute: paths are relative to the kernel's folder (its working ` +
        `directory), e.g. "data.csv" or "out/plot.png"`,
    );
  }
  if (path.includes("\\")) {
    throw new ScratchPathError(`Path ${shown} contains a backslash: separate folders with "/"`);
  }
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new ScratchPathError(
      `Path ${shown} contains "..": a path cannot leave the kernel's folder`,
    );
  }
  if (segments.length === 0) {
    throw new ScratchPathError(`Path ${shown} names the kernel's folder itself, not a file in it`);
  }
  return segments;
}

/**
 * The real path of an existing file or folder under `root`, symbolic links resolved.
 *
 * @param root The scratch folder.
 * @throws {ScratchPathError} When the path breaks {@linkcode scratchSegments}' rules or leads out
 *   of `root` through a symbolic link.
 * @throws {Deno.errors.NotFound} When there is no such file.
 */
export async function resolveForRead(root: string, path: string): Promise<string> {
  const segments = scratchSegments(path);
  const notFound = () =>
    new Deno.errors.NotFound(`No file ${JSON.stringify(path)} in the kernel's folder`);
  const realRoot = await Deno.realPath(root).catch((error) => {
    throw error instanceof Deno.errors.NotFound ? notFound() : error;
  });
  const real = await Deno.realPath(join(root, ...segments)).catch((error) => {
    throw error instanceof Deno.errors.NotFound ? notFound() : error;
  });
  if (!inside(realRoot, real)) {
    throw new ScratchPathError(
      `Path ${JSON.stringify(path)} leads out of the kernel's folder through a symbolic link: ` +
        `refused`,
    );
  }
  return real;
}

/**
 * The path to write a file at under `root`, with its missing folders created (and `root`
 * itself). No segment may be a symbolic link, wherever it points.
 *
 * @param root The scratch folder.
 * @throws {ScratchPathError} When the path breaks {@linkcode scratchSegments}' rules, goes
 *   through a symbolic link, names a folder, or goes through a file as if it were a folder.
 */
export async function resolveForWrite(root: string, path: string): Promise<string> {
  const segments = scratchSegments(path);
  const shown = JSON.stringify(path);
  await Deno.mkdir(root, { recursive: true });
  let at = root;
  for (const [i, segment] of segments.entries()) {
    at = join(at, segment);
    const last = i === segments.length - 1;
    const info = await Deno.lstat(at).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    });
    const so = segments.slice(0, i + 1).join("/");
    if (info?.isSymlink) {
      throw new ScratchPathError(
        `Path ${shown} goes through a symbolic link (${so}): writing through one is refused`,
      );
    }
    if (last) {
      if (info?.isDirectory) throw new ScratchPathError(`Path ${shown} is a folder, not a file`);
    } else if (!info) {
      await Deno.mkdir(at).catch((error) => {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      });
    } else if (!info.isDirectory) {
      throw new ScratchPathError(`Path ${shown} goes through ${so}, which is a file, not a folder`);
    }
  }
  return at;
}

/** Whether real path `path` is `root` or under it. */
function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
