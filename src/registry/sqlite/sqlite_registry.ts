/**
 * The registry in SQLite (`node:sqlite`), in WAL mode so a reader never blocks the writer and a
 * process killed mid-write leaves the last committed state.
 *
 * @module
 */
// node:sqlite is synchronous: the methods are `async` only so that its throws become rejections.
// deno-lint-ignore-file require-await
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { CHUNK_BYTES, ChunkedBodies } from "./chunked_bodies.ts";
import { MIGRATIONS } from "./migrations.ts";
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

type Row = Record<string, SQLInputValue>;

/**
 * Opens (creating if needed) the registry at `path` and brings its schema up to date.
 * `node:sqlite` is synchronous: each call completes before its promise resolves.
 *
 * @param options.now The leases' clock (default `Date.now`): one machine's.
 * @throws {Error} When the file is not a database this version can use (e.g. a newer schema).
 */
export async function openSqliteRegistry(
  path: string,
  options: { now?: () => number } = {},
): Promise<Registry> {
  return new SqliteRegistry(path, options.now ?? Date.now);
}

class SqliteRegistry implements Registry {
  readonly shared = false;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #bodies = new ChunkedBodies((sql) => this.#prepare(sql), () => this.#db.isOpen);
  #now: () => number;

  constructor(path: string, now: () => number) {
    this.#now = now;
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL");
    // With WAL, NORMAL keeps every committed transaction across a process crash.
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#db.exec("PRAGMA foreign_keys = ON");
    this.#migrate();
    this.#bodies.sweepIdle();
  }

  /** A prepared statement, compiled once per SQL text (most calls are on a request's path). */
  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #migrate(): void {
    const { user_version: version } = this.#prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    if (version > MIGRATIONS.length) {
      throw new Error(
        `Cannot open registry: its schema version ${version} is newer than this program's ` +
          `(${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      const migration = MIGRATIONS[v];
      if (migration === undefined) {
        throw new RangeError(`Cannot open registry: invalid schema version ${version}`);
      }
      this.#transaction(() => {
        this.#db.exec(migration);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  async createKernel(
    k: { id: string; ownerSession?: string; name?: string; state?: KernelState; now: number },
  ): Promise<KernelRecord> {
    this.#prepare(
      `INSERT INTO kernels (id, owner_session, name, state, created_at, last_active_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(k.id, k.ownerSession ?? null, k.name ?? null, k.state ?? "live", k.now, k.now);
    return (await this.getKernel(k.id))!;
  }

  async getKernel(id: string): Promise<KernelRecord | undefined> {
    const row = this.#prepare("SELECT * FROM kernels WHERE id = ?").get(id) as Row | undefined;
    return row && toKernel(row);
  }

  async findKernelByName(name: string): Promise<KernelRecord | undefined> {
    const row = this.#prepare("SELECT * FROM kernels WHERE name = ? AND state != 'closed'")
      .get(name) as Row | undefined;
    return row && toKernel(row);
  }

  async listKernels(options: KernelFilter = {}): Promise<KernelRecord[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (options.state) {
      where.push("state = ?");
      params.push(options.state);
    }
    if (options.named !== undefined) {
      where.push(options.named ? "name IS NOT NULL" : "name IS NULL");
    }
    if (options.idleBefore !== undefined) {
      where.push("last_active_at < ?");
      params.push(options.idleBefore);
    }
    const sql = `SELECT * FROM kernels ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY last_active_at DESC ${options.limit !== undefined ? "LIMIT ?" : ""}`;
    if (options.limit !== undefined) params.push(options.limit);
    return (this.#prepare(sql).all(...params) as Row[]).map(toKernel);
  }

  async updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount" | "slot">>,
    options: FencedWrite = {},
  ): Promise<void> {
    if (options.fence) {
      return this.#transaction(() => {
        this.#fence(id, options.fence);
        this.#updateKernel(id, fields);
      });
    }
    this.#updateKernel(id, fields);
  }

  #updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount" | "slot">>,
  ): void {
    const columns: Record<string, SQLInputValue | undefined> = {
      state: fields.state,
      last_active_at: fields.lastActiveAt,
      execution_count: fields.executionCount,
    };
    this.#update("kernels", id, columns);
    if (fields.slot) {
      // Set once: the unique index refuses another kernel's slot.
      this.#prepare("UPDATE kernels SET slot = ? WHERE id = ? AND slot IS NULL").run(
        fields.slot,
        id,
      );
    }
  }

  /** Sets the given columns of one row; `undefined` leaves a column as it is. */
  #update(table: string, id: string, columns: Record<string, SQLInputValue | undefined>): void {
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (set.length === 0) return;
    this.#prepare(`UPDATE ${table} SET ${set.map(([c]) => `${c} = ?`).join(", ")} WHERE id = ?`)
      .run(...set.map(([, v]) => v!), id);
  }

  async closeKernel(id: string, options: FencedWrite = {}): Promise<void> {
    this.#transaction(() => {
      this.#fence(id, options.fence);
      this.#prepare("DELETE FROM snapshots WHERE kernel_id = ?").run(id);
      this.#prepare("DELETE FROM kernel_files WHERE kernel_id = ?").run(id);
      this.#prepare("DELETE FROM cells WHERE kernel_id = ?").run(id);
      this.#prepare("UPDATE kernels SET state = 'closed', name = NULL WHERE id = ?").run(id);
    });
    this.#bodies.sweep(id);
  }

  async saveSnapshot(
    kernelId: string,
    s: NewSnapshot,
    keep: number,
    options: FencedWrite = {},
  ): Promise<SnapshotMeta> {
    if (s.body.length <= CHUNK_BYTES) {
      const meta = this.#transaction(() => {
        this.#fence(kernelId, options.fence);
        return this.#commitSnapshot(kernelId, this.#nextVersion(kernelId), s, keep, {
          body: s.body,
          size: s.body.length,
          chunks: 0,
        });
      });
      // The versions it pruned may have been large.
      this.#bodies.sweep(kernelId);
      return meta;
    }
    // A large body goes in pieces first (chunked_bodies.ts); the version is chosen now, before
    // the first await, so that saves keep the order they were asked in.
    const version = this.#nextVersion(kernelId);
    let finished = false;
    try {
      const { chunks, size } = await this.#bodies.write(kernelId, version, s.body);
      const meta = this.#transaction(() => {
        // The fence is checked here, where the version becomes visible.
        this.#fence(kernelId, options.fence);
        this.#bodies.finish(kernelId, version, chunks);
        const stored = { body: new Uint8Array(0), size, chunks };
        return this.#commitSnapshot(kernelId, version, s, keep, stored);
      });
      finished = true;
      return meta;
    } finally {
      // Pruned versions' pieces, or this one's if it failed, go in the background.
      if (!finished) this.#bodies.abandon(kernelId, version);
      else this.#bodies.sweep(kernelId);
    }
  }

  /** The version a new snapshot of `kernelId` gets: above every stored or pending one. */
  #nextVersion(kernelId: string): number {
    const { top } = this.#prepare(
      "SELECT COALESCE(MAX(version), 0) AS top FROM snapshots WHERE kernel_id = ?",
    ).get(kernelId) as { top: number };
    return Math.max(top, this.#bodies.highestVersion(kernelId)) + 1;
  }

  /** Inserts the snapshot row, prunes old versions and the cell log; inside a transaction. */
  #commitSnapshot(
    kernelId: string,
    version: number,
    s: NewSnapshot,
    keep: number,
    stored: { body: Uint8Array; size: number; chunks: number },
  ): SnapshotMeta {
    this.#prepare(
      `INSERT INTO snapshots
         (kernel_id, version, saved_at, size, format, execution_count, body, skipped, chunks,
          untold_loss)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      kernelId,
      version,
      s.savedAt,
      stored.size,
      s.format,
      s.executionCount,
      stored.body,
      JSON.stringify(s.skipped),
      stored.chunks,
      s.untoldLoss ? JSON.stringify(s.untoldLoss) : null,
    );
    this.#prepare(
      `DELETE FROM snapshots WHERE kernel_id = ? AND quarantined_at IS NULL AND version NOT IN (
         SELECT version FROM snapshots WHERE kernel_id = ? AND quarantined_at IS NULL
         ORDER BY version DESC LIMIT ?)`,
    ).run(kernelId, kernelId, keep);
    this.#prepare(
      `DELETE FROM cells WHERE kernel_id = ? AND cell <= (
         SELECT MIN(execution_count) FROM snapshots WHERE kernel_id = ? AND quarantined_at IS NULL)`,
    ).run(kernelId, kernelId);
    this.#prepare(
      `UPDATE kernels SET last_saved_at = ?, execution_count = MAX(execution_count, ?) WHERE id = ?`,
    ).run(s.savedAt, s.executionCount, kernelId);
    return {
      kernelId,
      version,
      savedAt: s.savedAt,
      size: stored.size,
      format: s.format,
      executionCount: s.executionCount,
      skipped: s.skipped,
      untoldLoss: s.untoldLoss ?? null,
      quarantined: null,
    };
  }

  async recordCell(kernelId: string, c: CellRecord, options: FencedWrite = {}): Promise<void> {
    const write = () =>
      this.#prepare(
        "INSERT OR REPLACE INTO cells (kernel_id, cell, declared, at) VALUES (?, ?, ?, ?)",
      ).run(kernelId, c.cell, JSON.stringify(c.declared), c.at);
    if (!options.fence) return void write();
    this.#transaction(() => {
      this.#fence(kernelId, options.fence);
      write();
    });
  }

  /** Inside a transaction: throws `LeaseLostError` unless `fence` holds the kernel's lease. */
  #fence(kernelId: string, fence: LeaseFence | undefined): void {
    if (!fence) return;
    const row = this.#prepare("SELECT holder, epoch FROM leases WHERE kernel_id = ?")
      .get(kernelId) as { holder: string; epoch: number } | undefined;
    checkFence(kernelId, fence, row && { holder: row.holder, epoch: Number(row.epoch) });
  }

  async acquireLease(kernelId: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    return this.#transaction(() => {
      const now = this.#now();
      const lease = this.#lease(kernelId);
      const held = lease !== undefined && lease.expiresAt > now;
      if (held && lease.holder !== holder) {
        return { ok: false, holder: lease.holder, expiresAt: lease.expiresAt };
      }
      const epoch = held ? lease.epoch : (lease?.epoch ?? 0) + 1;
      const expiresAt = now + ttlMs;
      this.#prepare(
        `INSERT OR REPLACE INTO leases (kernel_id, holder, epoch, expires_at, wanted_by)
         VALUES (?, ?, ?, ?, NULL)`,
      ).run(kernelId, holder, epoch, expiresAt);
      return { ok: true, epoch, expiresAt };
    });
  }

  async renewLeases(
    holder: string,
    ttlMs: number,
    leases: { kernelId: string; epoch: number }[],
  ): Promise<Renewal> {
    return this.#transaction(() => {
      const expiresAt = this.#now() + ttlMs;
      const renew = this.#prepare(
        `UPDATE leases SET expires_at = ?
         WHERE kernel_id = ? AND holder = ? AND epoch = ? AND expires_at != 0
         RETURNING wanted_by`,
      );
      const renewal: Renewal = { renewed: [], wanted: [] };
      for (const l of leases) {
        const row = renew.get(expiresAt, l.kernelId, holder, l.epoch) as Row | undefined;
        if (!row) continue;
        renewal.renewed.push(l.kernelId);
        if (row.wanted_by !== null) renewal.wanted.push(l.kernelId);
      }
      return renewal;
    });
  }

  async requestHandover(kernelId: string, holder: string): Promise<void> {
    this.#prepare(
      "UPDATE leases SET wanted_by = ? WHERE kernel_id = ? AND holder != ? AND expires_at > ?",
    ).run(holder, kernelId, holder, this.#now());
  }

  async releaseLease(kernelId: string, fence: LeaseFence): Promise<void> {
    this.#prepare(
      "UPDATE leases SET expires_at = 0 WHERE kernel_id = ? AND holder = ? AND epoch = ?",
    ).run(kernelId, fence.holder, fence.epoch);
  }

  async getLease(kernelId: string): Promise<LeaseRecord | undefined> {
    return this.#lease(kernelId);
  }

  #lease(kernelId: string): LeaseRecord | undefined {
    const row = this.#prepare("SELECT * FROM leases WHERE kernel_id = ?").get(kernelId) as
      | Row
      | undefined;
    return row && {
      kernelId,
      holder: String(row.holder),
      epoch: Number(row.epoch),
      expiresAt: Number(row.expires_at),
      wantedBy: row.wanted_by === null ? null : String(row.wanted_by),
    };
  }

  async cellsAfter(kernelId: string, after: number): Promise<CellRecord[]> {
    const rows = this.#prepare(
      "SELECT cell, declared, at FROM cells WHERE kernel_id = ? AND cell > ? ORDER BY cell",
    ).all(kernelId, after) as Row[];
    return rows.map((r) => ({
      cell: Number(r.cell),
      declared: JSON.parse(String(r.declared)),
      at: Number(r.at),
    }));
  }

  async saveFiles(
    kernelId: string,
    changes: FileChanges,
    options: FencedWrite = {},
  ): Promise<void> {
    this.#transaction(() => {
      this.#fence(kernelId, options.fence);
      const remove = this.#prepare("DELETE FROM kernel_files WHERE kernel_id = ? AND path = ?");
      for (const path of changes.remove) remove.run(kernelId, path);
      const put = this.#prepare(
        `INSERT OR REPLACE INTO kernel_files (kernel_id, path, size, mtime, sha256, body)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const f of changes.put) put.run(kernelId, f.path, f.size, f.mtimeMs, f.sha256, f.bytes);
    });
  }

  async listFiles(kernelId: string): Promise<StoredFile[]> {
    const rows = this.#prepare(
      "SELECT path, size, mtime, sha256 FROM kernel_files WHERE kernel_id = ? ORDER BY path",
    ).all(kernelId) as Row[];
    return rows.map((r) => ({
      path: String(r.path),
      size: Number(r.size),
      mtimeMs: Number(r.mtime),
      sha256: String(r.sha256),
    }));
  }

  async loadFile(kernelId: string, path: string): Promise<Uint8Array | undefined> {
    const row = this.#prepare("SELECT body FROM kernel_files WHERE kernel_id = ? AND path = ?")
      .get(kernelId, path) as { body: Uint8Array } | undefined;
    return row && new Uint8Array(row.body);
  }

  async listSnapshots(kernelId: string): Promise<SnapshotMeta[]> {
    const rows = this.#prepare(
      `SELECT kernel_id, version, saved_at, size, format, execution_count, skipped, untold_loss,
              quarantined_at, quarantine_reason
       FROM snapshots WHERE kernel_id = ? ORDER BY version DESC`,
    ).all(kernelId) as Row[];
    return rows.map(toSnapshotMeta);
  }

  async loadSnapshot(kernelId: string, version: number): Promise<SnapshotRecord | undefined> {
    const row = this.#prepare("SELECT * FROM snapshots WHERE kernel_id = ? AND version = ?")
      .get(kernelId, version) as Row | undefined;
    if (!row) return undefined;
    const chunks = Number(row.chunks ?? 0);
    if (chunks === 0) return { ...toSnapshotMeta(row), body: storedBytes(row.body) };
    const exists = () =>
      this.#prepare("SELECT 1 FROM snapshots WHERE kernel_id = ? AND version = ?")
        .get(kernelId, version) !== undefined;
    const body = await this.#bodies.read(kernelId, version, chunks, Number(row.size), exists);
    return body === undefined ? undefined : { ...toSnapshotMeta(row), body };
  }

  async quarantineSnapshot(
    kernelId: string,
    version: number,
    reason: string,
    now: number,
  ): Promise<void> {
    this.#prepare(
      `UPDATE snapshots SET quarantined_at = ?, quarantine_reason = ?
       WHERE kernel_id = ? AND version = ?`,
    ).run(now, reason, kernelId, version);
  }

  async secret(name: string, candidate: string): Promise<string> {
    this.#prepare("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)").run(name, candidate);
    const row = this.#prepare("SELECT value FROM secrets WHERE name = ?").get(name) as
      | { value: string }
      | undefined;
    return row!.value;
  }

  async createSession(
    s: { id: string; now: number; metadata?: Record<string, unknown> },
  ): Promise<SessionRecord> {
    this.#prepare(
      `INSERT INTO sessions (id, created_at, last_initialized_at, last_active_at, metadata)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(s.id, s.now, s.now, s.now, JSON.stringify(s.metadata ?? {}));
    return (await this.getSession(s.id))!;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#prepare("SELECT * FROM sessions WHERE id = ?").get(id) as Row | undefined;
    return row && toSession(row);
  }

  async updateSession(id: string, fields: SessionUpdate): Promise<void> {
    const columns: Record<string, SQLInputValue | undefined> = {
      last_active_at: fields.lastActiveAt,
      last_initialized_at: fields.lastInitializedAt,
      ended_at: fields.endedAt,
    };
    this.#update("sessions", id, columns);
  }

  async listSessions(
    options: { limit?: number; open?: boolean; idleBefore?: number } = {},
  ): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (options.open) where.push("ended_at IS NULL");
    if (options.idleBefore !== undefined) {
      where.push("last_active_at < ?");
      params.push(options.idleBefore);
    }
    if (options.limit) params.push(options.limit);
    const rows = this.#prepare(
      `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY last_active_at DESC ${options.limit ? "LIMIT ?" : ""}`,
    ).all(...params) as Row[];
    return rows.map(toSession);
  }

  async counts(): Promise<{ openSessions: number; sessionlessKernels: number }> {
    const row = this.#prepare(
      `SELECT (SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL) AS sessions,
              (SELECT COUNT(*) FROM kernels WHERE owner_session IS NULL AND name IS NULL
                 AND state != 'closed') AS kernels`,
    ).get() as { sessions: number; kernels: number };
    return { openSessions: row.sessions, sessionlessKernels: row.kernels };
  }

  async recordKernelUse(sessionId: string, kernelId: string, now: number): Promise<void> {
    this.#prepare(
      `INSERT OR IGNORE INTO session_kernels (session_id, kernel_id, first_used_at) VALUES (?, ?, ?)`,
    ).run(sessionId, kernelId, now);
  }

  async kernelsOfSession(sessionId: string): Promise<KernelRecord[]> {
    const rows = this.#prepare(
      `SELECT * FROM kernels WHERE state != 'closed' AND (owner_session = ? OR id IN (
         SELECT kernel_id FROM session_kernels WHERE session_id = ?))
       ORDER BY last_active_at DESC`,
    ).all(sessionId, sessionId) as Row[];
    return rows.map(toKernel);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    await this.#bodies.settle();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function toKernel(row: Row): KernelRecord {
  return {
    id: String(row.id),
    ownerSession: row.owner_session === null ? null : String(row.owner_session),
    name: row.name === null ? null : String(row.name),
    state: String(row.state) as KernelState,
    createdAt: Number(row.created_at),
    lastActiveAt: Number(row.last_active_at),
    executionCount: Number(row.execution_count),
    lastSavedAt: row.last_saved_at === null ? null : Number(row.last_saved_at),
    slot: row.slot === null || row.slot === undefined ? null : String(row.slot),
  };
}

function toSession(row: Row): SessionRecord {
  return {
    id: String(row.id),
    createdAt: Number(row.created_at),
    lastInitializedAt: Number(row.last_initialized_at),
    lastActiveAt: Number(row.last_active_at),
    metadata: JSON.parse(String(row.metadata)),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
  };
}

function toSnapshotMeta(row: Row): SnapshotMeta {
  return {
    kernelId: String(row.kernel_id),
    version: Number(row.version),
    savedAt: Number(row.saved_at),
    size: Number(row.size),
    format: Number(row.format),
    executionCount: Number(row.execution_count),
    skipped: JSON.parse(String(row.skipped)),
    untoldLoss: row.untold_loss === null || row.untold_loss === undefined
      ? null
      : JSON.parse(String(row.untold_loss)),
    quarantined: row.quarantined_at === null || row.quarantined_at === undefined
      ? null
      : { at: Number(row.quarantined_at), reason: String(row.quarantine_reason) },
  };
}

/**
 * An inline body's bytes. The column was declared TEXT (SQLite stores a BLOB in it as it is):
 * a body saved before bodies were bytes is its JSON text, read back as its UTF-8.
 */
function storedBytes(body: unknown): Uint8Array {
  return body instanceof Uint8Array ? body : new TextEncoder().encode(String(body));
}
