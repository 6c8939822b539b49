/**
 * An exclusive, process-wide hold on a persistent kernel's name, so that two stdio processes
 * never run the same named kernel. On one machine's registry the lock is the operating system's
 * (`flock`), released when the process ends however it ends; on a registry shared by several
 * hosts it is a lease in the registry (`leaseName`), renewed while the process lives and expiring
 * after `--lease-ttl` when it dies.
 *
 * @module
 */
import { join } from "node:path";
import type { Registry } from "./registry/registry.ts";
import { renewEveryMs } from "./supervisor/leases.ts";

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
  const file = await Deno.open(join(dir, `${await sha256Hex(name)}.lock`), {
    create: true,
    write: true,
  });
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

/** A name held through the registry; `release()` frees it for the next process at once. */
export interface NameLease {
  release(): Promise<void>;
}

/**
 * Takes the registry lease of `name` (its own key, `name:<sha256>`, beside kernels' leases) for
 * `holder`, and renews it every second until released; a renewal that fails is logged through
 * `warn`, and the lease then lapses after `ttlMs` like a dead process's.
 *
 * @throws {NameInUseError} When another live process holds it.
 */
export async function leaseName(
  registry: Registry,
  name: string,
  options: { holder: string; ttlMs: number; warn: (message: string) => void },
): Promise<NameLease> {
  const key = `name:${await sha256Hex(name)}`;
  const got = await registry.acquireLease(key, options.holder, options.ttlMs);
  if (!got.ok) throw new NameInUseError(name);
  const fence = { holder: options.holder, epoch: got.epoch };
  let lost = false;
  const timer = setInterval(async () => {
    try {
      const { renewed } = await registry.renewLeases(options.holder, options.ttlMs, [
        { kernelId: key, epoch: fence.epoch },
      ]);
      if (renewed.length === 0 && !lost) {
        lost = true;
        options.warn(`the lease of kernel name "${name}" lapsed and another process took it`);
      }
    } catch (error) {
      options.warn(`renewing the lease of a kernel name failed: ${(error as Error).message}`);
    }
  }, renewEveryMs(options.ttlMs));
  Deno.unrefTimer(timer);
  return {
    async release() {
      clearInterval(timer);
      await registry.releaseLease(key, fence);
    },
  };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
