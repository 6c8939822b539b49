/**
 * What the supervisor knows of one kernel (its entry in the table), the policy's view of it,
 * and one save of it.
 *
 * @module
 */
import type { LeaseFence, Registry, SnapshotMeta } from "../registry/registry.ts";
import type { SupervisedKernel } from "./kernel_factory.ts";
import type { ScratchSync } from "./scratch_sync.ts";
import type { KernelView } from "./policy.ts";
import type { Notice } from "./recovery.ts";

/** One kernel in the supervisor's table. */
export interface Entry {
  id: string;
  persistent: boolean;
  /** The registry that holds this kernel's record and snapshots. */
  store: Registry;
  kernel?: SupervisedKernel;
  starting?: Promise<SupervisedKernel>;
  /** Admitted to a live slot and starting: counts against the cap before it has a kernel. */
  reserved: boolean;
  busy: number;
  lastActive: number;
  dirty: boolean;
  dirtySince: number | null;
  requestsSinceSave: number;
  /** See `KernelView.unsavedWorkMs`. */
  unsavedWorkMs: number;
  /** See `KernelView.lastSaveMs`. */
  lastSaveMs: number;
  generation: number;
  saving: Promise<boolean>;
  /**
   * What the next results say about a restore or restart, until a request arrives after one
   * that counted as telling it (see `Supervisor.execute`). `found`, `told`: their places in the
   * host's order of requests; `afterWait`: found by a start that had waited for another host's
   * lease, when the request that waited may have been given up unseen.
   */
  notice?: Notice & { found: number; afterWait: boolean; told?: number; toldAt?: number };
  /** The lease was taken after waiting for another host to hand it over or to let it lapse. */
  waitedForLease: boolean;
  /**
   * The latest save attempts failed: why, how many in a row, and when to try again; `refused`
   * when the kernel refused it for the size of its variables, which its next request may change.
   */
  saveFailure?: { reason: string; attempts: number; retryAt: number; refused: boolean };
  /** The words of a loss still to tell that this host's latest save carried (`untoldLoss`). */
  savedLoss?: string;
  /** The registry's last active time and count need writing. */
  touched: boolean;
  /** Periodic saves that gave way to a request since the last save that finished. */
  yields: number;
  /** This host's lease of the kernel, when leases are on and it holds one; writes carry it. */
  lease?: LeaseFence;
  /** When the lease ends unless renewed, by this host's clock (a conservative estimate). */
  leaseUntil: number;
  /** A stop in progress (eviction, handover): a start waits for it, so leases do not cross. */
  stopping?: Promise<void>;
  /** A handover to another host is under way. */
  handingOver: boolean;
  /**
   * Its lease came from another holder (another host, or this host's earlier run): its scratch
   * folder here may be stale, and is made to match the registry's files when it starts.
   */
  arrived: boolean;
  /** Dropped because another host took its lease: this entry never starts a kernel again. */
  revoked: boolean;
}

/** An entry for a kernel that is not live yet. */
export function newEntry(id: string, store: Registry, persistent: boolean, now: number): Entry {
  return {
    id,
    persistent,
    store,
    busy: 0,
    lastActive: now,
    dirty: false,
    dirtySince: null,
    requestsSinceSave: 0,
    unsavedWorkMs: 0,
    lastSaveMs: 0,
    generation: 0,
    saving: Promise.resolve(true),
    touched: false,
    reserved: false,
    yields: 0,
    leaseUntil: 0,
    waitedForLease: false,
    handingOver: false,
    arrived: false,
    revoked: false,
  };
}

/** Notes that everything the kernel did is in its newest snapshot. */
export function markSaved(entry: Entry): void {
  entry.saveFailure = undefined;
  entry.dirty = false;
  entry.dirtySince = null;
  entry.requestsSinceSave = 0;
  entry.unsavedWorkMs = 0;
}

/** What the policy sees of an entry; a kernel admitted and starting counts as live and busy. */
export function view(e: Entry): KernelView {
  return {
    id: e.id,
    live: e.kernel !== undefined || e.reserved,
    busy: e.busy > 0 || e.reserved,
    persistent: e.persistent,
    lastActive: e.lastActive,
    dirty: e.dirty,
    dirtySince: e.dirtySince,
    requestsSinceSave: e.requestsSinceSave,
    unsavedWorkMs: e.unsavedWorkMs,
    lastSaveMs: e.lastSaveMs,
    retrySaveAt: e.saveFailure?.retryAt ?? null,
    ...(e.saveFailure && { saveFailed: e.saveFailure.reason }),
  };
}

/**
 * Saves the kernel's namespace as a new snapshot version if it changed. A request that ran
 * during the save keeps the kernel dirty, so its effect is saved next time.
 *
 * @param options.yieldable The snapshot gives way to a request queued behind it (it then
 *   throws a `SaveYieldedError`).
 * @returns The snapshot written; none when the kernel had not changed.
 * @throws When the snapshot cannot be taken or written, or gave way; the entry is then left
 *   dirty.
 */
export async function saveEntry(
  entry: Entry,
  options: {
    now: () => number;
    snapshotVersions: number;
    yieldable?: boolean;
    /** Saves the scratch files too (shared registries), first. */
    files?: ScratchSync;
    /** The lease the writes must hold, as it was when the save began. */
    fence?: LeaseFence;
  },
): Promise<SnapshotMeta | undefined> {
  const kernel = entry.kernel;
  if (!kernel || !entry.dirty) return undefined;
  const generation = entry.generation;
  const requests = entry.requestsSinceSave;
  const work = entry.unsavedWorkMs;
  const began = options.now();
  const taken = await kernel.snapshot({ yieldable: options.yieldable });
  // Until a client surely had it (see Supervisor.execute): a restore from this snapshot, which
  // is numbered past the lost cells, says it again. Read once the body is taken.
  const notice = entry.notice;
  const untoldLoss = notice?.lost ? { words: notice.lost, toldAt: notice.toldAt ?? null } : null;
  // Files first: a crash between the two writes leaves files newer than the namespace, never
  // a snapshot whose files were not saved.
  const files = entry.persistent
    ? await options.files?.save(entry.id, entry.store, options.fence)
    : [];
  const saved = await entry.store.saveSnapshot(
    entry.id,
    {
      body: taken.body,
      format: taken.format,
      savedAt: options.now(),
      // As the body was taken: cells that ran while the save went on are not in it.
      executionCount: taken.executionCount,
      skipped: [...taken.skipped, ...files ?? []],
      untoldLoss,
    },
    // An ephemeral kernel's snapshots are in the host's memory: its latest is enough.
    entry.persistent ? options.snapshotVersions : 1,
    { fence: options.fence },
  );
  entry.saveFailure = undefined;
  entry.savedLoss = untoldLoss?.words;
  entry.lastSaveMs = options.now() - began;
  if (entry.generation === generation) {
    markSaved(entry);
  } else {
    entry.requestsSinceSave = Math.max(0, entry.requestsSinceSave - requests);
    entry.unsavedWorkMs = Math.max(0, entry.unsavedWorkMs - work);
  }
  return saved;
}
