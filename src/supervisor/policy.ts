/**
 * The supervisor's decisions as pure functions of plain data and the time: which kernels to
 * evict, which to cull, which to save. Tested with plain objects and an injected `now`.
 *
 * @module
 */

/** What the policy sees of one kernel. Times are milliseconds. */
export interface KernelView {
  id: string;
  /** Running in a sandbox now. */
  live: boolean;
  /** A request is running or queued. */
  busy: boolean;
  /** Can be saved and stopped (an ephemeral stdio kernel cannot). */
  persistent: boolean;
  lastActive: number;
  /** Changed since its last save. */
  dirty: boolean;
  /** When it first changed after its last save. */
  dirtySince: number | null;
  /** Requests since its last save. */
  requestsSinceSave: number;
  /** After a failed save, no new attempt before this time; `null` when the last save worked. */
  retrySaveAt: number | null;
}

/** Save thresholds. */
export interface SavePolicy {
  /** Save a dirty kernel this long after its first unsaved change (default 15 s). */
  saveIntervalMs: number;
  /** Save at once after this many requests (default 10). */
  saveEvery: number;
}

/**
 * The kernels to stop so that `incoming` more fit under `cap`: the least recently used idle
 * persistent ones. Busy kernels are never chosen; when too few are idle, fewer are returned and
 * the caller must wait.
 */
export function pickEvictions(kernels: KernelView[], cap: number, incoming = 1): string[] {
  const live = kernels.filter((k) => k.live);
  const excess = live.length + incoming - cap;
  if (excess <= 0) return [];
  return live
    .filter((k) => !k.busy && k.persistent)
    .sort((a, b) => a.lastActive - b.lastActive)
    .slice(0, excess)
    .map((k) => k.id);
}

/** The live, idle, persistent kernels unused for at least `idleTimeoutMs`. */
export function pickCulls(kernels: KernelView[], now: number, idleTimeoutMs: number): string[] {
  return kernels
    .filter((k) => k.live && !k.busy && k.persistent && now - k.lastActive >= idleTimeoutMs)
    .map((k) => k.id);
}

/**
 * When to try again after `attempts` failed saves in a row: 1 s, doubling, at most 5 minutes,
 * so a save that cannot succeed neither spins nor floods the log.
 */
export function retryDelayMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/** Whether a kernel should be saved now (not before the retry time of a failed save). */
export function needsSave(kernel: KernelView, now: number, policy: SavePolicy): boolean {
  if (!kernel.dirty || !kernel.persistent) return false;
  if (kernel.retrySaveAt !== null && now < kernel.retrySaveAt) return false;
  if (kernel.requestsSinceSave >= policy.saveEvery) return true;
  return kernel.dirtySince !== null && now - kernel.dirtySince >= policy.saveIntervalMs;
}
