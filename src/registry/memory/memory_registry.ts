/**
 * The registry in memory: for ephemeral kernels (stdio without `--kernel`), whose state dies with
 * the host, and as the fake behind supervisor tests. Same contract as the SQLite registry.
 *
 * @module
 */
// Nothing here waits: the methods are `async` so that a throw becomes a rejection, as elsewhere.
// deno-lint-ignore-file require-await
import {
  type CellRecord,
  checkFence,
  type FencedWrite,
  type FileChanges,
  type KernelFilter,
  type KernelRecord,
  type KernelState,
  type LeaseAttempt,
  type LeaseFence,
  type LeaseRecord,
  type NewSnapshot,
  type Registry,
  type Renewal,
  type SessionRecord,
  type SessionUpdate,
  type SnapshotMeta,
  type SnapshotRecord,
  type StoredFile,
} from "../registry.ts";

/**
 * A registry that keeps everything in this process.
 *
 * @param options.now The leases' clock (default `Date.now`).
 */
export function openMemoryRegistry(options: { now?: () => number } = {}): Registry {
  return new MemoryRegistry(options.now ?? Date.now);
}

class MemoryRegistry implements Registry {
  readonly shared = false;
  #now: () => number;
  #leases = new Map<string, LeaseRecord>();
  /** Saved scratch files by kernel, then path. */
  #files = new Map<string, Map<string, StoredFile & { bytes: Uint8Array }>>();
  #kernels = new Map<string, KernelRecord>();
  /** Newest first, per kernel. */
  #snapshots = new Map<string, SnapshotRecord[]>();
  #sessions = new Map<string, SessionRecord>();
  #secrets = new Map<string, string>();
  /** Kernel ids each session has used. */
  #uses = new Map<string, Set<string>>();
  /** Recorded cells by kernel, in order. */
  #cells = new Map<string, CellRecord[]>();
  #closed = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  async createKernel(
    k: { id: string; ownerSession?: string; name?: string; state?: KernelState; now: number },
  ): Promise<KernelRecord> {
    this.#open();
    if (this.#kernels.has(k.id)) throw new Error(`Cannot create kernel: id "${k.id}" exists`);
    if (k.name !== undefined && this.#byName(k.name)) {
      throw new Error(`Cannot create kernel: the name "${k.name}" is already taken`);
    }
    const record: KernelRecord = {
      id: k.id,
      ownerSession: k.ownerSession ?? null,
      name: k.name ?? null,
      state: k.state ?? "live",
      createdAt: k.now,
      lastActiveAt: k.now,
      executionCount: 0,
      lastSavedAt: null,
      slot: null,
    };
    this.#kernels.set(k.id, record);
    return { ...record };
  }

  async getKernel(id: string): Promise<KernelRecord | undefined> {
    this.#open();
    const record = this.#kernels.get(id);
    return record && { ...record };
  }

  async findKernelByName(name: string): Promise<KernelRecord | undefined> {
    this.#open();
    const record = this.#byName(name);
    return record && { ...record };
  }

  async listKernels(options: KernelFilter = {}): Promise<KernelRecord[]> {
    this.#open();
    return [...this.#kernels.values()]
      .filter((k) => options.state === undefined || k.state === options.state)
      .filter((k) => options.named === undefined || (k.name !== null) === options.named)
      .filter((k) => options.idleBefore === undefined || k.lastActiveAt < options.idleBefore)
      .sort(byActivity)
      .slice(0, options.limit)
      .map((k) => ({ ...k }));
  }

  async updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount" | "slot">>,
    options: FencedWrite = {},
  ): Promise<void> {
    this.#open();
    this.#fence(id, options.fence);
    const { slot, ...rest } = fields;
    if (slot && [...this.#kernels.values()].some((k) => k.slot === slot && k.id !== id)) {
      throw new Error(`Cannot record kernel "${id}": its slot is another kernel's`);
    }
    const record = this.#kernels.get(id);
    if (record) Object.assign(record, defined({ ...rest, ...(record.slot === null && { slot }) }));
  }

  async closeKernel(id: string, options: FencedWrite = {}): Promise<void> {
    this.#open();
    this.#fence(id, options.fence);
    this.#snapshots.delete(id);
    this.#files.delete(id);
    this.#cells.delete(id);
    const record = this.#kernels.get(id);
    if (record) Object.assign(record, { state: "closed", name: null });
  }

  async saveSnapshot(
    kernelId: string,
    s: NewSnapshot,
    keep: number,
    options: FencedWrite = {},
  ): Promise<SnapshotMeta> {
    this.#open();
    this.#fence(kernelId, options.fence);
    const kept = this.#snapshots.get(kernelId) ?? [];
    const version = Math.max(0, ...kept.map((v) => v.version)) + 1;
    const size = s.body.length;
    const record: SnapshotRecord = {
      ...s,
      // Its own copy, as a database keeps one: the caller's array may change later.
      body: s.body.slice(),
      kernelId,
      version,
      size,
      untoldLoss: s.untoldLoss ? { ...s.untoldLoss } : null,
      quarantined: null,
    };
    let good = 0;
    // Newest first; quarantined versions are never pruned.
    this.#snapshots.set(
      kernelId,
      [record, ...kept].filter((v) => v.quarantined !== null || ++good <= keep),
    );
    const usable = this.#snapshots.get(kernelId)!.filter((v) => v.quarantined === null);
    const covered = Math.min(...usable.map((v) => v.executionCount));
    this.#cells.set(kernelId, (this.#cells.get(kernelId) ?? []).filter((c) => c.cell > covered));
    const kernel = this.#kernels.get(kernelId);
    if (kernel) {
      kernel.lastSavedAt = s.savedAt;
      kernel.executionCount = Math.max(kernel.executionCount, s.executionCount);
    }
    return meta(record);
  }

  async recordCell(kernelId: string, cell: CellRecord, options: FencedWrite = {}): Promise<void> {
    this.#open();
    this.#fence(kernelId, options.fence);
    const record = { ...cell, declared: [...cell.declared] };
    const cells = this.#cells.get(kernelId);
    const last = cells?.at(-1);
    // Cells nearly always come in order: appended at once. Sorting an ephemeral kernel's log
    // again on every cell cost O(n) each (30 µs per cell after 2,000 of them).
    if (cells && last !== undefined && last.cell < cell.cell) {
      cells.push(record);
      return;
    }
    const others = (cells ?? []).filter((c) => c.cell !== cell.cell);
    others.push(record);
    this.#cells.set(kernelId, others.sort((a, b) => a.cell - b.cell));
  }

  async cellsAfter(kernelId: string, after: number): Promise<CellRecord[]> {
    this.#open();
    return (this.#cells.get(kernelId) ?? []).filter((c) => c.cell > after).map((c) => ({
      ...c,
      declared: [...c.declared],
    }));
  }

  async saveFiles(
    kernelId: string,
    changes: FileChanges,
    options: FencedWrite = {},
  ): Promise<void> {
    this.#open();
    this.#fence(kernelId, options.fence);
    const files = this.#files.get(kernelId) ?? new Map();
    for (const path of changes.remove) files.delete(path);
    for (const file of changes.put) files.set(file.path, { ...file, bytes: file.bytes.slice() });
    this.#files.set(kernelId, files);
  }

  async listFiles(kernelId: string): Promise<StoredFile[]> {
    this.#open();
    return [...this.#files.get(kernelId)?.values() ?? []]
      .map(({ bytes: _, ...meta }) => meta)
      .sort((a, b) => a.path < b.path ? -1 : 1);
  }

  async loadFile(kernelId: string, path: string): Promise<Uint8Array | undefined> {
    this.#open();
    return this.#files.get(kernelId)?.get(path)?.bytes.slice();
  }

  async listSnapshots(kernelId: string): Promise<SnapshotMeta[]> {
    this.#open();
    return (this.#snapshots.get(kernelId) ?? []).map(meta);
  }

  async loadSnapshot(kernelId: string, version: number): Promise<SnapshotRecord | undefined> {
    this.#open();
    const record = this.#snapshots.get(kernelId)?.find((v) => v.version === version);
    return record && { ...record, body: record.body.slice() };
  }

  async quarantineSnapshot(
    kernelId: string,
    version: number,
    reason: string,
    now: number,
  ): Promise<void> {
    this.#open();
    const record = this.#snapshots.get(kernelId)?.find((v) => v.version === version);
    if (record) record.quarantined = { at: now, reason };
  }

  async secret(name: string, candidate: string): Promise<string> {
    this.#open();
    if (!this.#secrets.has(name)) this.#secrets.set(name, candidate);
    return this.#secrets.get(name)!;
  }

  async createSession(
    s: { id: string; now: number; metadata?: Record<string, unknown> },
  ): Promise<SessionRecord> {
    this.#open();
    if (this.#sessions.has(s.id)) throw new Error(`Cannot create session: id "${s.id}" exists`);
    const record: SessionRecord = {
      id: s.id,
      createdAt: s.now,
      lastInitializedAt: s.now,
      lastActiveAt: s.now,
      // A copy, as a database would keep: the caller's object may change later.
      metadata: structuredClone(s.metadata ?? {}),
      endedAt: null,
    };
    this.#sessions.set(s.id, record);
    return { ...record };
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    this.#open();
    const record = this.#sessions.get(id);
    return record && { ...record };
  }

  async updateSession(id: string, fields: SessionUpdate): Promise<void> {
    this.#open();
    const record = this.#sessions.get(id);
    if (record) Object.assign(record, defined(fields));
  }

  async listSessions(
    options: { limit?: number; open?: boolean; idleBefore?: number } = {},
  ): Promise<SessionRecord[]> {
    this.#open();
    return [...this.#sessions.values()]
      .filter((s) => !options.open || s.endedAt === null)
      .filter((s) => options.idleBefore === undefined || s.lastActiveAt < options.idleBefore)
      .sort(byActivity)
      .slice(0, options.limit || undefined)
      .map((s) => ({ ...s }));
  }

  async counts(): Promise<{ openSessions: number; sessionlessKernels: number }> {
    this.#open();
    const sessions = [...this.#sessions.values()].filter((s) => s.endedAt === null).length;
    const kernels = [...this.#kernels.values()]
      .filter((k) => k.ownerSession === null && k.name === null && k.state !== "closed").length;
    return { openSessions: sessions, sessionlessKernels: kernels };
  }

  async recordKernelUse(sessionId: string, kernelId: string): Promise<void> {
    this.#open();
    const used = this.#uses.get(sessionId) ?? new Set();
    used.add(kernelId);
    this.#uses.set(sessionId, used);
  }

  async kernelsOfSession(sessionId: string): Promise<KernelRecord[]> {
    this.#open();
    const used = this.#uses.get(sessionId);
    return [...this.#kernels.values()]
      .filter((k) => k.state !== "closed" && (k.ownerSession === sessionId || used?.has(k.id)))
      .sort(byActivity)
      .map((k) => ({ ...k }));
  }

  async acquireLease(kernelId: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    this.#open();
    const now = this.#now();
    const lease = this.#leases.get(kernelId);
    const held = lease !== undefined && lease.expiresAt > now;
    if (held && lease.holder !== holder) {
      return { ok: false, holder: lease.holder, expiresAt: lease.expiresAt };
    }
    const epoch = held ? lease.epoch : (lease?.epoch ?? 0) + 1;
    const expiresAt = now + ttlMs;
    this.#leases.set(kernelId, { kernelId, holder, epoch, expiresAt, wantedBy: null });
    return { ok: true, epoch, expiresAt };
  }

  async renewLeases(
    holder: string,
    ttlMs: number,
    leases: { kernelId: string; epoch: number }[],
  ): Promise<Renewal> {
    this.#open();
    const expiresAt = this.#now() + ttlMs;
    const renewal: Renewal = { renewed: [], wanted: [] };
    for (const { kernelId, epoch } of leases) {
      const lease = this.#leases.get(kernelId);
      if (lease?.holder !== holder || lease.epoch !== epoch || lease.expiresAt === 0) continue;
      lease.expiresAt = expiresAt;
      renewal.renewed.push(kernelId);
      if (lease.wantedBy !== null) renewal.wanted.push(kernelId);
    }
    return renewal;
  }

  async requestHandover(kernelId: string, holder: string): Promise<void> {
    this.#open();
    const lease = this.#leases.get(kernelId);
    if (lease && lease.holder !== holder && lease.expiresAt > this.#now()) lease.wantedBy = holder;
  }

  async releaseLease(kernelId: string, fence: LeaseFence): Promise<void> {
    this.#open();
    const lease = this.#leases.get(kernelId);
    if (lease?.holder === fence.holder && lease.epoch === fence.epoch) lease.expiresAt = 0;
  }

  async getLease(kernelId: string): Promise<LeaseRecord | undefined> {
    this.#open();
    const lease = this.#leases.get(kernelId);
    return lease && { ...lease };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #open(): void {
    if (this.#closed) throw new Error("Cannot use the registry: it is closed");
  }

  #fence(kernelId: string, fence: LeaseFence | undefined): void {
    checkFence(kernelId, fence, this.#leases.get(kernelId));
  }

  #byName(name: string): KernelRecord | undefined {
    return [...this.#kernels.values()].find((k) => k.name === name && k.state !== "closed");
  }
}

function byActivity(a: { lastActiveAt: number }, b: { lastActiveAt: number }): number {
  return b.lastActiveAt - a.lastActiveAt;
}

/** The fields that are set, so that `undefined` leaves a value as it is (as the SQL does). */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<
    T
  >;
}

function meta(record: SnapshotRecord): SnapshotMeta {
  const { body: _body, ...rest } = record;
  return { ...rest, skipped: [...rest.skipped] };
}
