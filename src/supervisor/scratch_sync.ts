/**
 * What the supervisor needs to move a kernel's scratch files with it between hosts of a shared
 * registry: saved with each snapshot, written back when the kernel starts. The host gives one
 * that knows where folders live (`folder_sync.ts`); without a shared registry there is none, as
 * the files stay on the one host's disk.
 *
 * @module
 */
import type { LeaseFence, Registry, SkippedItem } from "../registry/registry.ts";

/** Saves and restores kernels' scratch folders through the registry. */
export interface ScratchSync {
  /** Before a snapshot write: saves what changed in the folder; returns the files left out. */
  save(kernelId: string, store: Registry, fence: LeaseFence | undefined): Promise<SkippedItem[]>;
  /**
   * Before a kernel restores its namespace: writes the saved files its folder lacks or has in
   * another version. Returns, in words, the files that could not be written.
   *
   * @param options.exact The kernel comes from another holder, so its folder here may be left
   *   from an earlier stay: files not among the saved ones are removed too.
   */
  restore(
    kernelId: string,
    store: Registry,
    options: { exact: boolean },
  ): Promise<string | undefined>;
}
