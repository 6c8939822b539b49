/**
 * What the supervisor needs of a kernel, and how it gets one: a factory, so that admission,
 * eviction, culling and restart races are unit-tested with fake kernels (as jupyter_client's
 * `MultiKernelManager.kernel_manager_factory`). The host passes one that starts a real
 * `KernelHandle`.
 *
 * @module
 */
import type { KernelHandle, RestartControl, RestartOutcome } from "../kernel/kernel_handle.ts";

/** A live kernel as the supervisor drives it; `KernelHandle` is the real one. */
export type SupervisedKernel = Pick<
  KernelHandle,
  | "executionCount"
  | "memoryBytes"
  | "execute"
  | "complete"
  | "variables"
  | "inspect"
  | "snapshot"
  | "restore"
  | "reset"
  | "close"
>;

/** Hooks the supervisor gives each kernel it starts. */
export interface KernelHooks {
  /** Called after the kernel died and restarted empty, to put its saved state back. */
  onRestart: (control: RestartControl) => Promise<RestartOutcome>;
  /** Cells the kernel ran in its earlier lives: its count goes on from there. */
  executionCount: number;
  /** The kernel's folder slot, as recorded; `null` when it has none yet (see `recordSlot`). */
  slot: string | null;
  /**
   * Records the folder slot a kernel without one was given (e.g. a spare sandbox's), before the
   * kernel runs anything; it keeps that slot for life.
   */
  recordSlot: (slot: string) => Promise<void>;
}

/** Starts the kernel `id` in a fresh sandbox. */
export type KernelFactory = (id: string, hooks: KernelHooks) => Promise<SupervisedKernel>;
