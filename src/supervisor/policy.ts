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
  /** Time its kernel spent on requests that changed it since its last save, in ms. */
  unsavedWorkMs: number;
  /** How long its last save took, in ms (0 before any). */
  lastSaveMs: number;
  /** After a failed save, no new attempt before this time; `null` when the last save worked. */
  retrySaveAt: number | null;
  /** Why its latest save failed, when it did. */
  saveFailed?: string;
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
 * Why a newcomer cannot have a live slot, in words for its client: every live kernel is busy,
 * or idle but impossible to stop (ephemeral, or its save just failed: a stop saves first, and
 * a kernel is never stopped unsaved). `stuck` is true when no live kernel is busy: then no slot
 * can free up by waiting, and the newcomer is refused at once.
 *
 * @param live The live kernels, the newcomer not among them.
 * @param failed The ids of those whose save for eviction failed just now.
 * @param options.waitMs How long the newcomer waited, for the message.
 * @example
 * ```ts
 * capacityRefusal([view], new Set([view.id]), { now, waitMs: 30_000 }).message;
 * // "The host is at capacity: the one live kernel holds unsaved state that cannot be saved (…)"
 * ```
 */
export function capacityRefusal(
  live: KernelView[],
  failed: ReadonlySet<string>,
  options: { now: number; waitMs: number },
): { stuck: boolean; message: string } {
  const n = live.length;
  const busy = live.filter((k) => k.busy).length;
  const unsaved = live.filter((k) => !k.busy && failed.has(k.id));
  const ephemeral = live.filter((k) => !k.busy && !k.persistent && !failed.has(k.id)).length;
  const stuck = busy === 0;
  const waited = `${Math.round(options.waitMs / 1000)} s`;
  const all = n === 1 ? "the one live kernel" : `all ${n} live kernels`;
  if (unsaved.length === 0 && ephemeral === 0) {
    return {
      stuck: false,
      message: `The host is at capacity: ${all} stayed busy for ${waited}; ` +
        "try again shortly",
    };
  }
  // Kernels are named by when they were last used, never by id: an id is a capability, and
  // the newcomer is another session.
  const why = unsaved.slice(0, 3).map((k) =>
    `a kernel last active ${ago(options.now - k.lastActive)} ago: ` +
    (k.saveFailed ?? "its save failed").replace(/^Cannot save the kernel: /, "").slice(0, 300)
  );
  if (unsaved.length > 3) why.push(`${unsaved.length - 3} more`);
  if (ephemeral > 0) why.push(`${ephemeral} ephemeral (never saved, so never stopped)`);
  if (busy > 0) why.push(`${busy} busy for ${waited}`);
  const head = unsaved.length === n
    ? `${all} ${n === 1 ? "holds" : "hold"} unsaved state that cannot be saved`
    : n === 1
    ? "the one live kernel could not be stopped to make room"
    : `none of the ${n} live kernels could be stopped to make room`;
  const them = unsaved.length === 1 ? "it" : "them";
  const advice = unsaved.length > 0
    ? `free memory in ${them}, close ${them}, or raise --max-kernels`
    : "raise --max-kernels";
  return {
    stuck,
    message: `The host is at capacity: ${head} (${why.join("; ")}); ` +
      (stuck ? advice : `try again shortly, ${advice}`),
  };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/**
 * When to try again after `attempts` failed saves in a row: 1 s, doubling, at most 5 minutes,
 * so a save that cannot succeed neither spins nor floods the log.
 */
export function retryDelayMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Unsaved work that is saved at once, whatever the counts: cells that ran this long in all (a
 * data load, a model fit) cost more to run again than most saves take.
 */
export const SAVE_AFTER_WORK_MS = 2000;

/**
 * Whether a kernel should be saved now (not before the retry time of a failed save): after
 * `saveEvery` requests, `saveIntervalMs` after its first unsaved change, or once its unsaved
 * cells ran {@linkcode SAVE_AFTER_WORK_MS} in all and longer than its last save took (so a kernel
 * whose saves are slow is not saved after every cell).
 */
export function needsSave(kernel: KernelView, now: number, policy: SavePolicy): boolean {
  // An ephemeral kernel is saved too, to its memory registry: it comes back after a crash.
  if (!kernel.dirty) return false;
  if (kernel.retrySaveAt !== null && now < kernel.retrySaveAt) return false;
  if (kernel.requestsSinceSave >= policy.saveEvery) return true;
  if (kernel.unsavedWorkMs >= Math.max(SAVE_AFTER_WORK_MS, kernel.lastSaveMs)) return true;
  return kernel.dirtySince !== null && now - kernel.dirtySince >= policy.saveIntervalMs;
}
