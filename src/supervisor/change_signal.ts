/**
 * A signal that something about the live kernels changed (a slot freed, a request ended), for
 * waiters that re-check their condition after each change or after a time limit.
 *
 * @module
 */

/** Wakes every current waiter on `notify()`. */
export class ChangeSignal {
  #next = Promise.withResolvers<void>();

  /** Wakes everyone waiting now. */
  notify(): void {
    this.#next.resolve();
    this.#next = Promise.withResolvers<void>();
  }

  /** Resolves at the next `notify()` or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      this.#next.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, ms))),
    ]).finally(() => clearTimeout(timer));
  }
}
