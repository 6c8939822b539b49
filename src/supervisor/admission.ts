/**
 * Admission to a live slot: under the cap a kernel is admitted at once; at the cap the least
 * recently used idle kernels are stopped to make room (see `pickEvictions`); when every live
 * kernel is busy the newcomer waits for a change, up to the capacity wait, then gets a
 * {@linkcode CapacityError}. When none is busy yet none can be stopped (their saves fail, or
 * they are ephemeral), waiting would free nothing: the newcomer is refused at once, with why
 * (see `capacityRefusal`). Admissions are serialized, so two newcomers never take one slot.
 *
 * @module
 */
import type { ChangeSignal } from "./change_signal.ts";
import { CapacityError } from "./errors.ts";
import { capacityRefusal, type KernelView, pickEvictions } from "./policy.ts";

/**
 * How an eviction ended: `stopped`; `changed`, a request reached the kernel during its save, so
 * it stays (look again at once); `failed`, the save failed (wait for another change).
 */
export type EvictOutcome = "stopped" | "changed" | "failed";

/** What admission needs from the supervisor. */
export interface AdmissionOptions {
  /** Live kernels at most. */
  cap: number;
  /** How long a newcomer waits for a slot when every live kernel is busy, in ms. */
  waitMs: number;
  now: () => number;
  /** The kernels as the policy sees them now; `live` counts those admitted and starting. */
  kernels: () => KernelView[];
  /** Saves and stops a kernel; see {@linkcode EvictOutcome}. */
  evict: (id: string) => Promise<EvictOutcome>;
  /** Fires when a slot may have freed up. */
  changes: ChangeSignal;
}

/** Admits kernels to live slots one at a time. */
export class Admission {
  #options: AdmissionOptions;
  #queue: Promise<unknown> = Promise.resolve();

  /** @param options The cap, the wait and the supervisor's view of its kernels. */
  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  /**
   * Resolves when `id` may take a live slot, after calling `reserve` so that the slot counts
   * at once (before the kernel has started).
   *
   * @throws {CapacityError} When no slot freed up within the wait.
   */
  admit(id: string, reserve: () => void): Promise<void> {
    const admitted = this.#queue.then(() => this.#admit(id, reserve));
    this.#queue = admitted.catch(() => {});
    return admitted;
  }

  async #admit(id: string, reserve: () => void): Promise<void> {
    const o = this.#options;
    const deadline = o.now() + o.waitMs;
    for (;;) {
      const others = o.kernels().filter((k) => k.id !== id);
      // Only admitted kernels hold a slot: those still waiting for one must not count (a storm
      // of newcomers deadlocked when they did; found by the load script).
      const live = others.filter((k) => k.live);
      if (live.length < o.cap) {
        reserve();
        return;
      }
      // A kernel whose save fails cannot be stopped: the next least recently used is tried in
      // its place (leaving the failed ones out, and counting them as incoming, keeps the
      // number needed the same).
      const failed = new Set<string>();
      let again = false;
      for (let victims = pickEvictions(others, o.cap); victims.length > 0 && !again;) {
        for (const victim of victims) {
          // A kernel that changed during its save may be idle again already: waiting for a
          // change would wait for one that has happened.
          if (await o.evict(victim) === "failed") failed.add(victim);
          else again = true;
        }
        const rest = others.filter((k) => !failed.has(k.id));
        victims = again ? [] : pickEvictions(rest, o.cap, 1 + failed.size);
      }
      if (again) continue;
      const now = o.now();
      const seen = o.kernels().filter((k) => k.id !== id && k.live);
      if (seen.length < o.cap) continue;
      const refusal = capacityRefusal(seen, failed, { now, waitMs: o.waitMs });
      // No live kernel is busy: none will finish, so waiting frees nothing.
      if (refusal.stuck) throw new CapacityError(refusal.message);
      const left = deadline - now;
      if (left <= 0) throw new CapacityError(refusal.message);
      await o.changes.wait(left);
    }
  }
}
