/**
 * The host's kernel factory: real kernels in sandbox processes, with a pool of spare sandboxes
 * (`--spare-kernels`) so that a new kernel is ready at once. A kernel without a folder slot (a
 * new one) is bound to a spare, whose slot becomes its scratch folder for life; a kernel that
 * has a slot needs a sandbox for that folder and starts one, as does a new kernel when no spare
 * is there. Files in the old `kernels/<id>` layout move into a new slot first (see
 * `kernel_folder.ts`).
 *
 * @module
 */
import { KernelHandle, type KernelOptions } from "./kernel/kernel_handle.ts";
import type { SandboxProcess } from "./kernel/sandbox_process.ts";
import { type Spare, SparePool } from "./kernel/spare_pool.ts";
import {
  hasLegacyFiles,
  moveLegacyFolder,
  newSlot,
  removeEmptyLegacyFolder,
  removeKernelFolder,
  slotScratch,
} from "./kernel_folder.ts";
import { log } from "./log.ts";
import type { KernelFactory } from "./supervisor/kernel_factory.ts";

/** How kernels run; the same for every kernel and spare. */
export interface SandboxedKernelsOptions extends
  Pick<
    KernelOptions,
    "memoryLimitMb" | "cellTimeoutMs" | "prelude" | "npmAllow" | "runtime" | "diskQuota"
  > {
  /** Folder holding the slots. */
  dataDir: string;
  /** Spare sandboxes kept started; 0: none, every kernel starts its own. */
  spares: number;
}

/** Kernel starts so far, by how they got their sandbox. */
export interface StartCounts {
  /** Bound to a spare: no process start on the way. */
  spare: number;
  /**
   * Started a sandbox of their own: a kernel back after an eviction or a host restart (it has a
   * slot or an old folder to keep), or a new one that found no spare.
   */
  cold: number;
}

/** Starts kernels, keeping spares; see the module doc. Close it with `close()`. */
export class SandboxedKernels {
  #o: SandboxedKernelsOptions;
  #pool: SparePool;
  #counts: StartCounts = { spare: 0, cold: 0 };
  #logged = false;

  /** Starts filling the spare pool at once; logs a spare's memory once the first is up. */
  constructor(options: SandboxedKernelsOptions) {
    this.#o = options;
    this.#pool = new SparePool({
      size: options.spares,
      spawn: () => this.#spawnSpare(),
      discard: (slot) => removeKernelFolder(options.dataDir, { id: "", slot }),
      log: (message) => log("warn", message),
    });
  }

  /** The factory to give the supervisor. */
  readonly start: KernelFactory = async (id, hooks) => {
    const { dataDir } = this.#o;
    const base = {
      ...this.#kernelOptions(),
      onRestart: hooks.onRestart,
      executionCount: hooks.executionCount,
    };
    let slot = hooks.slot;
    if (await hasLegacyFiles(dataDir, id)) {
      // Recorded before the move: a move cut short is finished at the next start.
      if (slot === null) {
        slot = newSlot();
        await hooks.recordSlot(slot);
      }
      await moveLegacyFolder(dataDir, id, slot);
    } else if (slot === null) {
      await removeEmptyLegacyFolder(dataDir, id);
      const spare = await this.#pool.take();
      if (spare) {
        let recorded = false;
        try {
          await hooks.recordSlot(spare.slot);
          recorded = true;
          const scratchDir = slotScratch(dataDir, spare.slot);
          const kernel = await KernelHandle.start({ ...base, scratchDir, sandbox: spare.sandbox });
          this.#counts.spare++;
          return kernel;
        } catch (error) {
          await spare.sandbox.close();
          // A recorded slot is the kernel's from now on; an unrecorded one belongs to no one.
          if (!recorded) await removeKernelFolder(dataDir, { id, slot: spare.slot });
          throw error;
        }
      }
      slot = newSlot();
      await hooks.recordSlot(slot);
    }
    this.#counts.cold++;
    return await KernelHandle.start({ ...base, scratchDir: slotScratch(dataDir, slot) });
  };

  /** Kernel starts so far, by how they got their sandbox (restarts inside a kernel excluded). */
  get counts(): StartCounts {
    return { ...this.#counts };
  }

  /** Resolves once the spares starting now are up, with how many are ready. */
  sparesReady(): Promise<number> {
    return this.#pool.filled();
  }

  /** Resident memory of each ready spare, in bytes (they are not kernels: reported apart). */
  spareMemory(): Promise<number[]> {
    return this.#pool.residentBytes();
  }

  /** Stops the spares and deletes their slots; logs how kernels started. */
  async close(): Promise<void> {
    await this.#pool.close();
    if (this.#counts.spare + this.#counts.cold > 0) {
      log("info", "kernel starts this run", { ...this.#counts });
    }
  }

  #kernelOptions(): Omit<KernelOptions, "scratchDir"> {
    const { dataDir: _, spares: __, ...kernel } = this.#o;
    return kernel;
  }

  async #spawnSpare(): Promise<Spare> {
    const slot = newSlot();
    let sandbox: SandboxProcess | undefined;
    try {
      sandbox = await KernelHandle.spawnSandbox({
        ...this.#kernelOptions(),
        scratchDir: slotScratch(this.#o.dataDir, slot),
      });
      // A Worker's first result costs about 1 ms more than later ones (measured, median of 25):
      // the spare pays it ahead, then forgets the value, so its kernel finds `_` untouched.
      for (const code of ["0", "void delete globalThis._"]) {
        const warmed = await sandbox.request({ kind: "execute", code, cell: 0 });
        if (!warmed?.reply.ok) throw new Error("Cannot start a spare: its warm-up cell failed");
      }
      void this.#logFirstSpare(sandbox);
      return { slot, sandbox };
    } catch (error) {
      await sandbox?.close();
      await removeKernelFolder(this.#o.dataDir, { id: "", slot }).catch(() => {});
      throw error;
    }
  }

  /** Logs the first spare's memory, once: spares are not kernels, so it is reported apart. */
  async #logFirstSpare(sandbox: SandboxProcess): Promise<void> {
    if (this.#logged) return;
    this.#logged = true;
    const bytes = await sandbox.residentBytes();
    log("info", "spare kernels started (not counted in --max-kernels)", {
      spares: this.#o.spares,
      mbEach: bytes === undefined ? null : Math.round(bytes / 2 ** 20 * 10) / 10,
    });
  }
}
