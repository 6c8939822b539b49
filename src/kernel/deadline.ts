/**
 * Waiting for a promise at most so long, after `@std/async`'s `deadline` (JSR packages cannot
 * be fetched here).
 *
 * Unlike std's, which rejects with a `TimeoutError`, it resolves with {@linkcode TIMED_OUT}:
 * every caller here has something to do instead (kill a process, report a timeout), not an error
 * to raise, and the union type makes each one handle it.
 *
 * @module
 */

/** What {@linkcode deadline} resolves with when time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Settles as `promise` does, or resolves with {@linkcode TIMED_OUT} if it is still pending after
 * `ms` milliseconds. The timer is cleared either way, so it never keeps the process alive, and
 * `promise` itself is left to run.
 *
 * @example
 * ```ts
 * if (await deadline(child.status, 2000) === TIMED_OUT) child.kill("SIGKILL");
 * ```
 */
export async function deadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
