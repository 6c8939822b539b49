/**
 * An exclusive, process-wide hold on a persistent kernel's name, so that two stdio processes
 * never run the same named kernel. The lock is the operating system's (`flock`), released when
 * the process ends however it ends.
 *
 * @module
 */
import { join } from "node:path";

/** How long to wait before deciding that another live process holds the lock. */
const ATTEMPT_MS = 300;

/** Thrown when another live process holds the name. */
export class NameInUseError extends Error {
  /** @param name The kernel name asked for. */
  constructor(name: string) {
    super(
      `Cannot open kernel "${name}": another running mcp-kernel-host process is using it; ` +
        `stop that process or choose another --kernel name`,
    );
    this.name = "NameInUseError";
  }
}

/**
 * Takes the lock for `name` under `<dataDir>/locks/` (the file is named by a hash: a name is
 * never used as a path segment) and holds it until the returned file is closed or the process
 * exits.
 *
 * @throws {NameInUseError} When another process holds it.
 */
export async function lockName(dataDir: string, name: string): Promise<Deno.FsFile> {
  const dir = join(dataDir, "locks");
  await Deno.mkdir(dir, { recursive: true });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const file = await Deno.open(join(dir, `${hex}.lock`), { create: true, write: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const held = await Promise.race([
    file.lock(true).then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ATTEMPT_MS)),
  ]);
  clearTimeout(timer);
  // Leaving the pending lock call behind is fine: the caller exits on this error.
  if (!held) throw new NameInUseError(name);
  return file;
}
