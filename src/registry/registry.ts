/**
 * The registry's records and the interface the host and supervisor use. The SQLite
 * implementation is `sqlite_registry.ts`.
 *
 * @module
 */
import type { SkippedItem } from "../kernel/protocol.ts";

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
  /** Set when it failed to load: kept for inspection, never used again, never deleted. */
  quarantined: { at: number; reason: string } | null;
}

/** A snapshot with its body. */
export interface SnapshotRecord extends SnapshotMeta {
  body: string;
}

/** What a snapshot write needs. */
export interface NewSnapshot {
  body: string;
  format: number;
  savedAt: number;
  executionCount: number;
  skipped: SkippedItem[];
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

/** Sessions, kernels and snapshots, written atomically. */
export interface Registry extends Disposable {
  /** Records a new kernel, state `live`. */
  createKernel(
    kernel: { id: string; ownerSession?: string; name?: string; now: number },
  ): KernelRecord;
  getKernel(id: string): KernelRecord | undefined;
  /** The kernel saved under a `--kernel NAME`, unless closed. */
  findKernelByName(name: string): KernelRecord | undefined;
  /** Kernels in a state, most recently active first. */
  listKernels(options?: { state?: KernelState; named?: boolean; limit?: number }): KernelRecord[];
  updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount">>,
  ): void;
  /** Marks a kernel closed and deletes its snapshots, quarantined ones included. */
  closeKernel(id: string): void;

  /**
   * Writes a new snapshot version in one transaction, then keeps only the newest `keep`
   * versions that are not quarantined. A failure leaves the previous versions as they were.
   */
  saveSnapshot(kernelId: string, snapshot: NewSnapshot, keep: number): SnapshotMeta;
  /** A kernel's snapshots, newest first, quarantined ones included. */
  listSnapshots(kernelId: string): SnapshotMeta[];
  loadSnapshot(kernelId: string, version: number): SnapshotRecord | undefined;
  /** Flags a snapshot that failed to load; its body is kept. */
  quarantineSnapshot(kernelId: string, version: number, reason: string, now: number): void;

  createSession(
    session: { id: string; now: number; metadata?: Record<string, unknown> },
  ): SessionRecord;
  getSession(id: string): SessionRecord | undefined;
  touchSession(id: string, now: number): void;
  endSession(id: string, now: number): void;
  /** Sessions, most recently active first. */
  listSessions(options?: { limit?: number }): SessionRecord[];
  /** Notes that a session used a kernel (kept once). */
  recordKernelUse(sessionId: string, kernelId: string, now: number): void;
  /** Kernels a session owns or has used, not closed, most recently active first. */
  kernelsOfSession(sessionId: string): KernelRecord[];

  /** Closes the database. */
  close(): void;
}
