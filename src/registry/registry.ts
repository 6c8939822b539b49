/**
 * The registry's records and the interface the host and supervisor use. Every implementation
 * (`memory/`, `sqlite/`, `postgres/`) passes one contract suite
 * (`tests/registry/registry_contract.ts`). The interface is asynchronous so that a networked
 * database fits behind it.
 *
 * @module
 */

/** Something a snapshot left out or a restore could not rebuild, and why. */
export interface SkippedItem {
  /** The variable, or a path into it such as `cache.pending`. */
  path: string;
  reason: string;
  /**
   * Set on what was saved and comes back, but was not looked into (for captured variables or
   * private fields): a caveat, said apart from what was lost.
   */
  unchecked?: true;
}

/** Where a kernel is: running, saved and stopped (resumable), or closed for good. */
export type KernelState = "live" | "stored" | "closed";

/** One kernel. Times are milliseconds since the epoch. */
export interface KernelRecord {
  id: string;
  /** The session that created it; `null` for a stdio kernel. */
  ownerSession: string | null;
  /** The `--kernel NAME` of a persistent stdio kernel, else `null`. */
  name: string | null;
  state: KernelState;
  createdAt: number;
  lastActiveAt: number;
  /** Cells run, as last recorded (on save or on the periodic flush). */
  executionCount: number;
  lastSavedAt: number | null;
  /**
   * The folder slot holding the kernel's scratch folder (`<data>/slots/<slot>/files`), given at
   * its first start and kept for life; `null` until then, and for a kernel of an earlier version
   * whose files are in `<data>/kernels/<id>/files`. Unique among kernels.
   */
  slot: string | null;
}

/** A snapshot's metadata. */
export interface SnapshotMeta {
  kernelId: string;
  version: number;
  savedAt: number;
  /** Bytes of the body. */
  size: number;
  format: number;
  /** The kernel's execution count when it was taken. */
  executionCount: number;
  skipped: SkippedItem[];
  /**
   * A loss no client was sure to have heard of when it was taken (see `NewSnapshot`); a restore
   * from it says it.
   */
  untoldLoss: UntoldLoss | null;
  /** Set when it failed to load: kept for inspection, never used again, never deleted. */
  quarantined: { at: number; reason: string } | null;
}

/** A snapshot with its body. */
export interface SnapshotRecord extends SnapshotMeta {
  /** Its bytes (see `kernel/worker/snapshot_body.ts`), as they were saved. */
  body: Uint8Array;
}

/** What a snapshot write needs. */
export interface NewSnapshot {
  /** Its bytes: a JSON text's UTF-8, or a binary body (see `kernel/worker/snapshot_body.ts`). */
  body: Uint8Array;
  format: number;
  savedAt: number;
  executionCount: number;
  skipped: SkippedItem[];
  /**
   * What an earlier restore or restart of the kernel lost, while no client is sure to have heard
   * of it: the snapshot is numbered past the lost cells, so a restore from it would otherwise find
   * nothing lost.
   */
  untoldLoss?: UntoldLoss | null;
}

/** A loss in words, and when a reply first said it (ms since the epoch), if one did. */
export interface UntoldLoss {
  words: string;
  toldAt: number | null;
}

/** One cell a kernel ran, as recorded when it ran: what a restore without it would lose. */
export interface CellRecord {
  /** The cell's execution count. */
  cell: number;
  /** The top-level names the cell declared. */
  declared: string[];
  at: number;
}

/** One MCP session. */
export interface SessionRecord {
  id: string;
  createdAt: number;
  lastInitializedAt: number;
  lastActiveAt: number;
  metadata: Record<string, unknown>;
  endedAt: number | null;
}

/** Fields of a session that change after it is created. */
export type SessionUpdate = Partial<
  Pick<SessionRecord, "lastActiveAt" | "lastInitializedAt" | "endedAt">
>;

/** Which kernels `listKernels` lists. */
export interface KernelFilter {
  state?: KernelState;
  named?: boolean;
  /** Only kernels last active before this time (ms since the epoch). */
  idleBefore?: number;
  limit?: number;
}

/**
 * Who may write a kernel's state: the holder of its lease under one epoch. A write given a fence
 * fails with {@linkcode LeaseLostError}, inside its transaction, once the lease row names another
 * holder or epoch (another host took the kernel), so a host that lost its lease (paused,
 * partitioned) can never overwrite newer state.
 */
export interface LeaseFence {
  holder: string;
  epoch: number;
}

/** A kernel's lease row. Times are milliseconds since the epoch, by the registry's clock. */
export interface LeaseRecord {
  kernelId: string;
  /** The last holder: kept after release or expiry, so a restarted host finds its kernels. */
  holder: string;
  /** Raised each time the lease changes hands (or is taken again after release or expiry). */
  epoch: number;
  /** 0 once released. */
  expiresAt: number;
  /** Another host asked for the kernel (see `requestHandover`); cleared when the lease is taken. */
  wantedBy: string | null;
}

/** What `renewLeases` did: the leases renewed, and those of them another host asked for. */
export interface Renewal {
  renewed: string[];
  wanted: string[];
}

/** What `acquireLease` got: the lease under a new or the same epoch, or who holds it until when. */
export type LeaseAttempt =
  | { ok: true; epoch: number; expiresAt: number }
  | { ok: false; holder: string; expiresAt: number };

/**
 * One file of a kernel's scratch folder as a shared registry keeps it, so that the kernel finds
 * its files on whichever host it runs next. `path` is relative to the folder, `/`-separated.
 */
export interface StoredFile {
  path: string;
  size: number;
  /** Modification time on the host that saved it, ms since the epoch (restored with it). */
  mtimeMs: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
}

/** What changed in a kernel's scratch folder since its files were last saved. */
export interface FileChanges {
  put: (StoredFile & { bytes: Uint8Array })[];
  /** Paths no longer in the folder. */
  remove: string[];
}

/** Options of a write that only the kernel's current lease holder may make. */
export interface FencedWrite {
  fence?: LeaseFence;
}

/** Thrown by a fenced write whose lease was taken by another holder; nothing was written. */
export class LeaseLostError extends Error {
  /** The lease as the registry has it now; `undefined` when it has no lease row. */
  readonly current: { holder: string; epoch: number } | undefined;

  constructor(kernelId: string, fence: LeaseFence, current?: { holder: string; epoch: number }) {
    super(
      `Cannot write kernel ${kernelId}: its lease (epoch ${fence.epoch}, ${fence.holder}) was ` +
        (current ? `taken by ${current.holder} (epoch ${current.epoch})` : "removed"),
    );
    this.name = "LeaseLostError";
    this.current = current && { holder: current.holder, epoch: current.epoch };
  }
}

/** Throws {@linkcode LeaseLostError} unless the lease row `current` matches `fence`. */
export function checkFence(
  kernelId: string,
  fence: LeaseFence | undefined,
  current: { holder: string; epoch: number } | undefined,
): void {
  if (!fence) return;
  if (current?.holder === fence.holder && current.epoch === fence.epoch) return;
  throw new LeaseLostError(kernelId, fence, current);
}

/** Sessions, kernels and snapshots, written atomically. Close it with `close()`. */
export interface Registry extends AsyncDisposable {
  /**
   * Whether several hosts may use this registry at once (PostgreSQL): kernels are then leased
   * to one host at a time, and their scratch files travel with their snapshots.
   */
  readonly shared: boolean;
  /** Records a new kernel, state `live` unless given. */
  createKernel(kernel: {
    id: string;
    ownerSession?: string;
    name?: string;
    state?: KernelState;
    now: number;
  }): Promise<KernelRecord>;
  getKernel(id: string): Promise<KernelRecord | undefined>;
  /** The kernel saved under a `--kernel NAME`, unless closed. */
  findKernelByName(name: string): Promise<KernelRecord | undefined>;
  /**
   * Kernels in a state, most recently active first; `idleBefore` keeps those last active before
   * that time.
   */
  listKernels(options?: KernelFilter): Promise<KernelRecord[]>;
  /**
   * Sets the fields given. A `slot` is set once, when the kernel has none.
   *
   * @throws {Error} When `slot` is another kernel's.
   */
  updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount" | "slot">>,
    options?: FencedWrite,
  ): Promise<void>;
  /** Marks a kernel closed and deletes its snapshots (quarantined ones included) and files. */
  closeKernel(id: string, options?: FencedWrite): Promise<void>;
  /**
   * Records a cell a kernel ran. Cells that every kept snapshot already includes are dropped at
   * the next snapshot write, so the log holds only what a restore could lose.
   */
  recordCell(kernelId: string, cell: CellRecord, options?: FencedWrite): Promise<void>;
  /** The recorded cells of a kernel after execution count `after`, in order. */
  cellsAfter(kernelId: string, after: number): Promise<CellRecord[]>;

  /**
   * Writes a new snapshot version in one transaction, then keeps only the newest `keep`
   * versions that are not quarantined. A failure leaves the previous versions as they were.
   */
  saveSnapshot(
    kernelId: string,
    snapshot: NewSnapshot,
    keep: number,
    options?: FencedWrite,
  ): Promise<SnapshotMeta>;
  /** Records changes of a kernel's scratch folder, in one transaction. */
  saveFiles(kernelId: string, changes: FileChanges, options?: FencedWrite): Promise<void>;
  /** The files saved for a kernel, without their content, by path. */
  listFiles(kernelId: string): Promise<StoredFile[]>;
  /** One saved file's content. */
  loadFile(kernelId: string, path: string): Promise<Uint8Array | undefined>;
  /** A kernel's snapshots, newest first, quarantined ones included. */
  listSnapshots(kernelId: string): Promise<SnapshotMeta[]>;
  loadSnapshot(kernelId: string, version: number): Promise<SnapshotRecord | undefined>;
  /** Flags a snapshot that failed to load; its body is kept. */
  quarantineSnapshot(kernelId: string, version: number, reason: string, now: number): Promise<void>;

  createSession(
    session: { id: string; now: number; metadata?: Record<string, unknown> },
  ): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Sets a session's activity, initialization or end time. */
  updateSession(id: string, fields: SessionUpdate): Promise<void>;
  /**
   * Sessions, most recently active first; `open` keeps those not ended, `idleBefore` those last
   * active before that time.
   */
  listSessions(
    options?: { limit?: number; open?: boolean; idleBefore?: number },
  ): Promise<SessionRecord[]>;
  /** How many sessions are open, and how many kernels no session owns are not closed. */
  counts(): Promise<{ openSessions: number; sessionlessKernels: number }>;
  /** Notes that a session used a kernel (kept once). */
  recordKernelUse(sessionId: string, kernelId: string, now: number): Promise<void>;
  /** Kernels a session owns or has used, not closed, most recently active first. */
  kernelsOfSession(sessionId: string): Promise<KernelRecord[]>;

  /**
   * The secret stored under `name`, created from `candidate` if there is none yet. Every caller,
   * on any host of the registry, gets the same value: the first write wins.
   */
  secret(name: string, candidate: string): Promise<string>;

  /**
   * Takes the lease of a kernel for `ttlMs` (by the registry's clock) if it is free, released,
   * expired, or already `holder`'s. A lease that changes hands, or is taken again after release
   * or expiry, gets the next epoch; one still held by `holder` keeps its epoch.
   */
  acquireLease(kernelId: string, holder: string, ttlMs: number): Promise<LeaseAttempt>;
  /**
   * Extends by `ttlMs` each lease of `holder` that still has the epoch given (one statement for
   * all); returns the ids of those renewed, and which of them another host asked for. A lease
   * expired but not taken by anyone is renewed.
   */
  renewLeases(
    holder: string,
    ttlMs: number,
    leases: { kernelId: string; epoch: number }[],
  ): Promise<Renewal>;
  /**
   * Asks the holder of a kernel's live lease to hand it over: it sees `wantedBy` at its next
   * renewal, saves, stops and releases the kernel; `holder` then takes it with `acquireLease`.
   */
  requestHandover(kernelId: string, holder: string): Promise<void>;
  /** Frees a lease if `fence` still holds it; its holder and epoch stay recorded. */
  releaseLease(kernelId: string, fence: LeaseFence): Promise<void>;
  /** A kernel's lease row, if it was ever leased. */
  getLease(kernelId: string): Promise<LeaseRecord | undefined>;

  /** Releases the store; later calls reject. Closing twice is harmless. */
  close(): Promise<void>;
}
