/**
 * A save that gives way: a yieldable snapshot checks, at points of its walk and between the
 * chunks it writes, whether a request is waiting behind it (the sandbox's main thread sets a
 * shared flag; see `KernelYieldSave`), and stops there. The kernel is saved later; the waiting
 * call does not sit through a long save.
 *
 * @module
 */

/** The name of the error a snapshot that gave way answers with (the host reads it too). */
export const SAVE_YIELDED = "SaveYieldedError";

/** A checkpoint: returns when the save may go on, throws when it should give way. */
export type Checkpoint = () => void;

/** Never gives way: for saves that must finish (eviction, shutdown, a move to a fresh process). */
export const NO_YIELD: Checkpoint = () => {};

/** A checkpoint that throws {@linkcode SAVE_YIELDED} once `flag[0]` is 1. */
export function yieldCheckpoint(flag: Int32Array): Checkpoint {
  return () => {
    if (Atomics.load(flag, 0) !== 1) return;
    const error = new Error("The save gave way to a request waiting behind it");
    error.name = SAVE_YIELDED;
    throw error;
  };
}
