/**
 * The host's kernel factory: real kernels in sandbox processes, with a pool of spare sandboxes
 * (`--spare-kernels`) so that a new kernel is ready at once. A kernel without a folder slot (a
 * new one) is bound to a spare, whose slot becomes its scratch folder for life; a kernel that
 * has a slot, or files in the old `kernels/<id>` layout, needs a sandbox for that folder and
 * starts one, as does a new kernel when no spare is there (see `kernel_folder.ts`).
 *
 * @module
 */
import { KernelHandle, type KernelOptions } from "./kernel/kernel_handle.ts";
import { type Spare, SparePool } from "./kernel/spare_pool.ts";
import {
  keepsLegacyFolder,
  newSlot,
  removeKernelFolder,
  scratchFolder,
  slotScratch,
} from "./kernel_folder.ts";
import { log } from "./log.ts";
import type { KernelFactory } from "./supervisor/kernel_factory.ts";

/** How kernels run; the same for every kernel and spare. */
export interface SandboxedKernelsOptions
  extends
    Pick<KernelOptions, "memoryLimitMb" | "cellTimeoutMs" | "prelude" | "npmAllow" | "runtime"> {
  /** Folder holding the slots. */
  dataDir: string;
  /** Spare sandboxes kept started; 0: none, every kernel starts its own. */
  spares: number;
}

/** Kernel starts so far, by how they got their sandbox. */
export interface StartCounts {
  /** Bound to a spare: no process start on the way. */
  spare: number;
  /** Started a sandbox of their own (a slot or old folder to keep, no spare, a restart). */
  cold: number;
}

/** Starts kernels, keeping spares; see the module doc. Close it with `close()`. */
export class SandboxedKernels {
  #o: SandboxedKernelsOptions;
  #pool: SparePool;
  #counts: StartCounts = { spare: 0, cold: 0 };

  /** Starts filling the spare pool at once; logs the spares' memory once they are up. */
  constructor(options: SandboxedKernelsOptions) {
    this.#o = options;
    this.#pool = new SparePool({
      size: options.spares,
      spawn: () => this.#spawnSpare(),
      discard: (slot) => removeKernelFolder(options.dataDir, { id: "", slot }),
      log: (message) => log("warn", message),
    });
    if (options.spares > 0) void this.#logSpares();
  }

  /** The factory to give the supervisor. */
  readonly start: KernelFactory = async (id, hooks) => {
    const { dataDir } = this.#o;
    const base = {
      ...this.#kernelOptions(),
      onRestart: hooks.onRestart,
      executionCount: hooks.executionCount,
    };
    const legacy = hooks.slot === null && await keepsLegacyFolder(dataDir, id);
    if (hooks.slot === null && !legacy) {
      const spare = await this.#pool.take();
      if (spare) {
        try {
          await hooks.recordSlot(spare.slot);
          const scratchDir = slotScratch(dataDir, spare.slot);
          const kernel = await KernelHandle.start({ ...base, scratchDir, sandbox: spare.sandbox });
          this.#counts.spare++;
          return kernel;
        } catch (error) {
          await spare.sandbox.close();
          throw error;
        }
      }
    }
    let slot = hooks.slot;
    if (slot === null && !legacy) {
      slot = newSlot();
      await hooks.recordSlot(slot);
    }
    this.#counts.cold++;
    return await KernelHandle.start({ ...base, scratchDir: scratchFolder(dataDir, { id, slot }) });
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
    try {
      const sandbox = await KernelHandle.spawnSandbox({
        ...this.#kernelOptions(),
        scratchDir: slotScratch(this.#o.dataDir, slot),
      });
      return { slot, sandbox };
    } catch (error) {
      await removeKernelFolder(this.#o.dataDir, { id: "", slot }).catch(() => {});
      throw error;
    }
  }

  async #logSpares(): Promise<void> {
    const ready = await this.#pool.filled();
    const bytes = await this.#pool.residentBytes();
    if (ready === 0) return;
    const mb = bytes.map((b) => Math.round(b / 1e5) / 10);
    log("info", "spare kernels ready (not counted in --max-kernels)", { spares: ready, mb });
  }
}
