/**
 * The registry in PostgreSQL (`--registry postgres://…`), through porsager's `postgres` driver:
 * the store a registry shared by several hosts needs. Same contract as the SQLite registry; each
 * write that SQLite does in one transaction is one transaction here too.
 *
 * Large bodies: a snapshot body travels as one text parameter of one `INSERT` (the driver holds
 * it once as UTF-8 besides the string, and PostgreSQL takes up to 1 GB per value), and it comes
 * back the same way on load. Streaming it would need `COPY snapshots FROM STDIN` (the driver's
 * `.writable()`) or large objects (`lo_*`) behind an interface that takes chunks instead of a
 * string; the kernel's snapshot is one string today, so nothing would be gained yet.
 *
 * Locks and stalled hosts: a fenced write locks its kernel's lease row (`FOR KEY SHARE`) for the
 * length of its transaction, and taking a lease over locks it `FOR UPDATE`, so no takeover
 * commits between a write's check and its commit. Renewals only touch `expires_at` and never
 * wait for writes. A host paused (SIGSTOP) or cut off inside such a transaction keeps its lock
 * for as long as it is stopped, and PostgreSQL 15 has no timeout that ends a transaction whose
 * client stopped in the middle of a statement; so a host taking over an expired lease whose row
 * stays locked ends the stalled session with `pg_terminate_backend` (see `#unblock`).
 *
 * @module
 */
import postgres from "postgres";
import { log } from "../../log.ts";
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

type Row = Record<string, unknown>;

/** A connection, or the transaction a statement runs in. */
type Query = postgres.Sql | postgres.TransactionSql;

/** Any key will do as long as every host uses the same one: it serializes migrations. */
const MIGRATION_LOCK = 0x6d6b6801;

/** The `application_name` of this program's connections: only those are ever terminated. */
const APPLICATION = "mcp-kernel-host";

/**
 * How long a takeover waits for an expired lease's row lock before it ends the sessions holding
 * it that wait for their client (a healthy fenced write holds it for milliseconds).
 */
const STALLED_AFTER_MS = 1000;

/**
 * The server ends a session idle inside a transaction this long (in ms): a safety net for a
 * stalled host that no takeover comes for. Every transaction here runs statements back to back.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * Connects to the PostgreSQL database at `url` and brings its schema up to date (in one
 * transaction, under an advisory lock, so hosts starting together migrate once). Besides the
 * driver's own URL parameters (`sslmode`, `max` connections, …) a libpq-style `host=/dir` query
 * parameter names the folder of a Unix socket: `postgres://me@localhost/db?host=/run/postgresql`.
 *
 * @throws {Error} When the server cannot be reached, refuses the login, or holds a schema newer
 *   than this program's; the message shows the URL without its password.
 */
export async function openPostgresRegistry(url: string): Promise<Registry> {
  const sql = connect(url, {});
  try {
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw new Error(
      `Cannot open the PostgreSQL registry at ${redactUrl(url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return new PostgresRegistry(sql, () => connect(url, { max: 1 }));
}

/** `postgres://me:secret@db/x` → `postgres://me:***@db/x`, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

function connect(url: string, options: { max?: number }): postgres.Sql {
  const parsed = new URL(url);
  const socketDir = parsed.searchParams.get("host");
  // The driver would send an unknown query parameter to the server as a setting: take it out.
  if (socketDir !== null) parsed.searchParams.delete("host");
  return postgres(parsed.href, {
    ...(socketDir !== null && { host: socketDir }),
    ...options,
    connection: {
      application_name: APPLICATION,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    },
    // Notices (e.g. "already exists, skipping") must never reach stdout: stdio serves JSON-RPC.
    onnotice: (notice) => log("debug", `PostgreSQL: ${notice.message}`),
  });
}

async function migrate(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_version (
      version INTEGER PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`;
    const [row] = await tx<{ version: number }[]>`
      SELECT COALESCE(MAX(version), 0) AS version FROM schema_version`;
    const version = row!.version;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `its schema version ${version} is newer than this program's (${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      await tx.unsafe(MIGRATIONS[v]!).simple();
      await tx`INSERT INTO schema_version (version) VALUES (${v + 1})`;
    }
  });
}

class PostgresRegistry implements Registry {
  readonly shared = true;
  #sql: postgres.Sql;
  #openWatcher: () => postgres.Sql;
  /**
   * A connection of its own for `#unblock`, opened on first need: its statements never wait for
   * a lock, and it does not compete with the pool's connections, which may all be waiting.
   */
  #watcher?: postgres.Sql;
  #closed?: Promise<void>;

  constructor(sql: postgres.Sql, openWatcher: () => postgres.Sql) {
    this.#sql = sql;
    this.#openWatcher = openWatcher;
  }

  async createKernel(
    k: { id: string; ownerSession?: string; name?: string; state?: KernelState; now: number },
  ): Promise<KernelRecord> {
    const [row] = await this.#sql<Row[]>`
      INSERT INTO kernels (id, owner_session, name, state, created_at, last_active_at)
      VALUES (${k.id}, ${k.ownerSession ?? null}, ${k.name ?? null}, ${k.state ?? "live"},
              ${k.now}, ${k.now})
      RETURNING *`;
    return toKernel(row!);
  }

  async getKernel(id: string): Promise<KernelRecord | undefined> {
    const [row] = await this.#sql<Row[]>`SELECT * FROM kernels WHERE id = ${id}`;
    return row && toKernel(row);
  }

  async findKernelByName(name: string): Promise<KernelRecord | undefined> {
    const [row] = await this.#sql<Row[]>`
      SELECT * FROM kernels WHERE name = ${name} AND state != 'closed'`;
    return row && toKernel(row);
  }

  async listKernels(options: KernelFilter = {}): Promise<KernelRecord[]> {
    // One statement for every filter (a null parameter matches all; LIMIT NULL is no limit).
    const rows = await this.#sql<Row[]>`
      SELECT * FROM kernels
      WHERE (${options.state ?? null}::text IS NULL OR state = ${options.state ?? null})
        AND (${options.named ?? null}::boolean IS NULL
             OR (name IS NOT NULL) = ${options.named ?? null})
        AND (${options.idleBefore ?? null}::bigint IS NULL
             OR last_active_at < ${options.idleBefore ?? null})
      ORDER BY last_active_at DESC
      LIMIT ${options.limit ?? null}`;
    return rows.map(toKernel);
  }

  async updateKernel(
    id: string,
    fields: Partial<Pick<KernelRecord, "state" | "lastActiveAt" | "executionCount" | "slot">>,
    options: FencedWrite = {},
  ): Promise<void> {
    // A slot is set once; the unique constraint refuses another kernel's, failing the update.
    await this.#fenced(id, options.fence, (sql) =>
      sql`
      UPDATE kernels SET
        state = COALESCE(${fields.state ?? null}::text, state),
        last_active_at = COALESCE(${fields.lastActiveAt ?? null}::bigint, last_active_at),
        execution_count = COALESCE(${fields.executionCount ?? null}::integer, execution_count),
        slot = COALESCE(slot, ${fields.slot || null}::text)
      WHERE id = ${id}`);
  }

  /**
   * Runs `write` as it is, or, given a fence, in a transaction that first checks the lease (and
   * locks its row, so that no acquisition commits between the check and the write).
   */
  async #fenced<T>(
    kernelId: string,
    fence: LeaseFence | undefined,
    write: (sql: Query) => Promise<T>,
  ): Promise<T> {
    if (!fence) return await write(this.#sql);
    return await this.#sql.begin(async (tx) => {
      await fenceCheck(tx, kernelId, fence);
      return await write(tx);
    }) as T;
  }

  async closeKernel(id: string, options: FencedWrite = {}): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await fenceCheck(tx, id, options.fence);
      await tx`DELETE FROM snapshots WHERE kernel_id = ${id}`;
      await tx`DELETE FROM kernel_files WHERE kernel_id = ${id}`;
      await tx`DELETE FROM cells WHERE kernel_id = ${id}`;
      await tx`UPDATE kernels SET state = 'closed', name = NULL WHERE id = ${id}`;
    });
  }

  async saveSnapshot(
    kernelId: string,
    s: NewSnapshot,
    keep: number,
    options: FencedWrite = {},
  ): Promise<SnapshotMeta> {
    const size = s.body.length;
    const version = await this.#sql.begin(async (tx) => {
      await fenceCheck(tx, kernelId, options.fence);
      // Locking the kernel's row makes saves of one kernel take turns, so two hosts or two
      // calls cannot pick the same next version.
      const [kernel] = await tx`SELECT 1 FROM kernels WHERE id = ${kernelId} FOR UPDATE`;
      if (!kernel) throw new Error(`Cannot save a snapshot: no kernel "${kernelId}"`);
      const [row] = await tx<{ next: number }[]>`
        SELECT COALESCE(MAX(version), 0) + 1 AS next FROM snapshots WHERE kernel_id = ${kernelId}`;
      const next = row!.next;
      await tx`
        INSERT INTO snapshots (kernel_id, version, saved_at, size, format, execution_count, body,
                               skipped, untold_loss)
        VALUES (${kernelId}, ${next}, ${s.savedAt}, ${size}, ${s.format}, ${s.executionCount},
                ${s.body}, ${JSON.stringify(s.skipped)},
                ${s.untoldLoss ? JSON.stringify(s.untoldLoss) : null})`;
      await tx`
        DELETE FROM snapshots WHERE kernel_id = ${kernelId} AND quarantined_at IS NULL
          AND version NOT IN (
            SELECT version FROM snapshots WHERE kernel_id = ${kernelId} AND quarantined_at IS NULL
            ORDER BY version DESC LIMIT ${keep})`;
      await tx`
        DELETE FROM cells WHERE kernel_id = ${kernelId} AND cell <= (
          SELECT MIN(execution_count) FROM snapshots
          WHERE kernel_id = ${kernelId} AND quarantined_at IS NULL)`;
      await tx`
        UPDATE kernels SET last_saved_at = ${s.savedAt},
          execution_count = GREATEST(execution_count, ${s.executionCount})
        WHERE id = ${kernelId}`;
      return next;
    });
    return {
      kernelId,
      version,
      savedAt: s.savedAt,
      size,
      format: s.format,
      executionCount: s.executionCount,
      skipped: s.skipped,
      untoldLoss: s.untoldLoss ?? null,
      quarantined: null,
    };
  }

  async recordCell(kernelId: string, c: CellRecord, options: FencedWrite = {}): Promise<void> {
    await this.#fenced(kernelId, options.fence, (sql) =>
      sql`
      INSERT INTO cells (kernel_id, cell, declared, at)
      VALUES (${kernelId}, ${c.cell}, ${JSON.stringify(c.declared)}, ${c.at})
      ON CONFLICT (kernel_id, cell) DO UPDATE SET declared = EXCLUDED.declared, at = EXCLUDED.at`);
  }

  async acquireLease(kernelId: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    // A live lease of another holder is refused without touching its row's lock, so asking
    // again and again for a busy kernel never queues behind its holder's writes.
    const [seen] = await this.#sql<{ holder: string; expires_at: string; live: boolean }[]>`
      SELECT holder, expires_at, expires_at > ${dbNow(this.#sql)} AS live
      FROM leases WHERE kernel_id = ${kernelId}`;
    if (seen?.live && seen.holder !== holder) {
      return { ok: false, holder: seen.holder, expiresAt: Number(seen.expires_at) };
    }
    const taken = await this.#sql.begin(async (tx) => {
      const [session] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      // The row lock that makes a takeover wait for fenced writes in progress (see the module).
      const locked = tx`SELECT 1 FROM leases WHERE kernel_id = ${kernelId} FOR UPDATE`.execute();
      await this.#unblock(kernelId, session!.pid, locked);
      // A free, released or expired lease (by the database's clock) is taken with the next
      // epoch; the holder's own live lease is extended under the same epoch.
      const [row] = await tx<{ epoch: number; expires_at: string }[]>`
        INSERT INTO leases AS l (kernel_id, holder, epoch, expires_at)
        VALUES (${kernelId}, ${holder}, 1, ${dbNow(tx)} + ${ttlMs})
        ON CONFLICT (kernel_id) DO UPDATE SET
          holder = EXCLUDED.holder,
          epoch = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > ${dbNow(tx)}
                  THEN l.epoch ELSE l.epoch + 1 END,
          expires_at = EXCLUDED.expires_at,
          wanted_by = NULL
        WHERE l.holder = EXCLUDED.holder OR l.expires_at <= ${dbNow(tx)}
        RETURNING epoch, expires_at`;
      return row;
    });
    if (taken) return { ok: true, epoch: taken.epoch, expiresAt: Number(taken.expires_at) };
    const lease = await this.getLease(kernelId);
    // Renewed or released between the two statements: a caller tries again.
    return { ok: false, holder: lease?.holder ?? "", expiresAt: lease?.expiresAt ?? 0 };
  }

  /**
   * Waits for `locking` (a statement of the session `pid` that waits for the lease row's lock),
   * and each time it has waited {@linkcode STALLED_AFTER_MS}, ends the sessions it waits for,
   * directly or through others, if the lease has expired and they wait for their client: a
   * paused or cut-off holder's fenced write, which would otherwise block the takeover for as long
   * as that host is stopped. Its transaction rolls back, so its write never lands; the takeover
   * then proceeds.
   */
  async #unblock(kernelId: string, pid: number, locking: Promise<unknown>): Promise<void> {
    let settled = false;
    const done = locking.finally(() => settled = true);
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise((resolve) => timer = setTimeout(resolve, STALLED_AFTER_MS));
      await Promise.race([done, waited]).finally(() => clearTimeout(timer));
      if (settled) return await done.then(() => {});
      this.#watcher ??= this.#openWatcher();
      const w = this.#watcher;
      try {
        // Materialized first: the planner may not evaluate a WHERE clause's terms in order. The
        // blockers' blockers too: a stalled save holds its kernel's row, and the same host's cell
        // write, holding the lease row, waits on that row (for the cells' foreign key), on a lock
        // and not on its client. Ended first, the save lets that write finish its statement; it
        // then waits on its client, and is ended at the next turn.
        const ended = await w<{ pid: number }[]>`
          WITH RECURSIVE blockers(pid) AS (
            SELECT unnest(pg_blocking_pids(${pid}))
            UNION
            SELECT unnest(pg_blocking_pids(b.pid)) FROM blockers b
          ), stalled AS MATERIALIZED (
            SELECT a.pid FROM pg_stat_activity a
            WHERE a.pid IN (SELECT pid FROM blockers) AND a.application_name = ${APPLICATION}
              AND a.wait_event_type = 'Client'
              AND EXISTS (SELECT 1 FROM leases
                          WHERE kernel_id = ${kernelId} AND expires_at <= ${dbNow(w)}))
          SELECT pid FROM stalled WHERE pg_terminate_backend(pid)`;
        if (ended.length > 0) {
          log(
            "warn",
            `ended ${ended.length} stalled PostgreSQL session(s) that held the lease of a kernel ` +
              "past its expiry (a paused or cut-off host), so that another host can take it over",
            { kernel: kernelId, pids: ended.map((r) => r.pid) },
          );
        }
      } catch (error) {
        log("warn", `cannot end a stalled PostgreSQL session: ${(error as Error).message}`);
      }
    }
  }

  async renewLeases(
    holder: string,
    ttlMs: number,
    leases: { kernelId: string; epoch: number }[],
  ): Promise<Renewal> {
    if (leases.length === 0) return { renewed: [], wanted: [] };
    const rows = await this.#sql<{ kernel_id: string; wanted_by: string | null }[]>`
      UPDATE leases AS l SET expires_at = ${dbNow(this.#sql)} + ${ttlMs}
      FROM (SELECT unnest(${this.#sql.array(leases.map((x) => x.kernelId))}::text[]) AS id,
                   unnest(${this.#sql.array(leases.map((x) => x.epoch))}::integer[]) AS epoch) AS h
      WHERE l.kernel_id = h.id AND l.epoch = h.epoch AND l.holder = ${holder}
        AND l.expires_at != 0
      RETURNING l.kernel_id, l.wanted_by`;
    return {
      renewed: rows.map((r) => r.kernel_id),
      wanted: rows.filter((r) => r.wanted_by !== null).map((r) => r.kernel_id),
    };
  }

  async requestHandover(kernelId: string, holder: string): Promise<void> {
    await this.#sql`
      UPDATE leases SET wanted_by = ${holder}
      WHERE kernel_id = ${kernelId} AND holder != ${holder} AND expires_at > ${dbNow(this.#sql)}`;
  }

  async releaseLease(kernelId: string, fence: LeaseFence): Promise<void> {
    await this.#sql`
      UPDATE leases SET expires_at = 0
      WHERE kernel_id = ${kernelId} AND holder = ${fence.holder} AND epoch = ${fence.epoch}`;
  }

  async getLease(kernelId: string): Promise<LeaseRecord | undefined> {
    const [row] = await this.#sql<Row[]>`SELECT * FROM leases WHERE kernel_id = ${kernelId}`;
    return row && {
      kernelId,
      holder: String(row.holder),
      epoch: Number(row.epoch),
      expiresAt: Number(row.expires_at),
      wantedBy: row.wanted_by === null ? null : String(row.wanted_by),
    };
  }

  async cellsAfter(kernelId: string, after: number): Promise<CellRecord[]> {
    const rows = await this.#sql<Row[]>`
      SELECT cell, declared, at FROM cells WHERE kernel_id = ${kernelId} AND cell > ${after}
      ORDER BY cell`;
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
    await this.#sql.begin(async (tx) => {
      await fenceCheck(tx, kernelId, options.fence);
      if (changes.remove.length > 0) {
        await tx`DELETE FROM kernel_files WHERE kernel_id = ${kernelId}
          AND path = ANY(${tx.array(changes.remove)}::text[])`;
      }
      // One statement per file: each body is one parameter (bounded by the caller's file cap).
      for (const f of changes.put) {
        await tx`
          INSERT INTO kernel_files (kernel_id, path, size, mtime, sha256, body)
          VALUES (${kernelId}, ${f.path}, ${f.size}, ${f.mtimeMs}, ${f.sha256}, ${f.bytes})
          ON CONFLICT (kernel_id, path) DO UPDATE SET size = EXCLUDED.size,
            mtime = EXCLUDED.mtime, sha256 = EXCLUDED.sha256, body = EXCLUDED.body`;
      }
    });
  }

  async listFiles(kernelId: string): Promise<StoredFile[]> {
    const rows = await this.#sql<Row[]>`
      SELECT path, size, mtime, sha256 FROM kernel_files WHERE kernel_id = ${kernelId}
      ORDER BY path COLLATE "C"`;
    return rows.map((r) => ({
      path: String(r.path),
      size: Number(r.size),
      mtimeMs: Number(r.mtime),
      sha256: String(r.sha256),
    }));
  }

  async loadFile(kernelId: string, path: string): Promise<Uint8Array | undefined> {
    const [row] = await this.#sql<{ body: Uint8Array }[]>`
      SELECT body FROM kernel_files WHERE kernel_id = ${kernelId} AND path = ${path}`;
    return row && new Uint8Array(row.body);
  }

  async listSnapshots(kernelId: string): Promise<SnapshotMeta[]> {
    const rows = await this.#sql<Row[]>`
      SELECT kernel_id, version, saved_at, size, format, execution_count, skipped, untold_loss,
             quarantined_at, quarantine_reason
      FROM snapshots WHERE kernel_id = ${kernelId} ORDER BY version DESC`;
    return rows.map(toSnapshotMeta);
  }

  async loadSnapshot(kernelId: string, version: number): Promise<SnapshotRecord | undefined> {
    const [row] = await this.#sql<Row[]>`
      SELECT * FROM snapshots WHERE kernel_id = ${kernelId} AND version = ${version}`;
    return row && { ...toSnapshotMeta(row), body: new Uint8Array(row.body as Uint8Array) };
  }

  async quarantineSnapshot(
    kernelId: string,
    version: number,
    reason: string,
    now: number,
  ): Promise<void> {
    await this.#sql`
      UPDATE snapshots SET quarantined_at = ${now}, quarantine_reason = ${reason}
      WHERE kernel_id = ${kernelId} AND version = ${version}`;
  }

  async secret(name: string, candidate: string): Promise<string> {
    // Two separate statements on purpose: the SELECT sees the row whichever writer committed it.
    await this.#sql`
      INSERT INTO secrets (name, value) VALUES (${name}, ${candidate}) ON CONFLICT DO NOTHING`;
    const [row] = await this.#sql<{ value: string }[]>`
      SELECT value FROM secrets WHERE name = ${name}`;
    return row!.value;
  }

  async createSession(
    s: { id: string; now: number; metadata?: Record<string, unknown> },
  ): Promise<SessionRecord> {
    const [row] = await this.#sql<Row[]>`
      INSERT INTO sessions (id, created_at, last_initialized_at, last_active_at, metadata)
      VALUES (${s.id}, ${s.now}, ${s.now}, ${s.now}, ${JSON.stringify(s.metadata ?? {})})
      RETURNING *`;
    return toSession(row!);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.#sql<Row[]>`SELECT * FROM sessions WHERE id = ${id}`;
    return row && toSession(row);
  }

  async updateSession(id: string, fields: SessionUpdate): Promise<void> {
    await this.#sql`
      UPDATE sessions SET
        last_active_at = COALESCE(${fields.lastActiveAt ?? null}::bigint, last_active_at),
        last_initialized_at = COALESCE(${fields.lastInitializedAt ?? null}::bigint,
                                       last_initialized_at),
        -- endedAt may be null (open again), so "given" is passed apart from the value.
        ended_at = CASE WHEN ${fields.endedAt !== undefined} THEN ${fields.endedAt ?? null}::bigint
                   ELSE ended_at END
      WHERE id = ${id}`;
  }

  async listSessions(
    options: { limit?: number; open?: boolean; idleBefore?: number } = {},
  ): Promise<SessionRecord[]> {
    const rows = await this.#sql<Row[]>`
      SELECT * FROM sessions
      WHERE (NOT ${options.open ?? false}::boolean OR ended_at IS NULL)
        AND (${options.idleBefore ?? null}::bigint IS NULL
             OR last_active_at < ${options.idleBefore ?? null})
      ORDER BY last_active_at DESC
      LIMIT ${options.limit || null}`;
    return rows.map(toSession);
  }

  async counts(): Promise<{ openSessions: number; sessionlessKernels: number }> {
    const [row] = await this.#sql<Row[]>`
      SELECT (SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL) AS sessions,
             (SELECT COUNT(*) FROM kernels WHERE owner_session IS NULL AND name IS NULL
                AND state != 'closed') AS kernels`;
    return { openSessions: Number(row!.sessions), sessionlessKernels: Number(row!.kernels) };
  }

  async recordKernelUse(sessionId: string, kernelId: string, now: number): Promise<void> {
    await this.#sql`
      INSERT INTO session_kernels (session_id, kernel_id, first_used_at)
      VALUES (${sessionId}, ${kernelId}, ${now}) ON CONFLICT DO NOTHING`;
  }

  async kernelsOfSession(sessionId: string): Promise<KernelRecord[]> {
    const rows = await this.#sql<Row[]>`
      SELECT * FROM kernels WHERE state != 'closed' AND (owner_session = ${sessionId} OR id IN (
        SELECT kernel_id FROM session_kernels WHERE session_id = ${sessionId}))
      ORDER BY last_active_at DESC`;
    return rows.map(toKernel);
  }

  /** Waits up to 5 s for queries in flight, then closes every connection. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([
      this.#sql.end({ timeout: 5 }),
      this.#watcher?.end({ timeout: 5 }),
    ]).then(() => {});
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The database's clock in milliseconds since the epoch: leases go by it, not by hosts'. */
function dbNow(sql: Query): postgres.PendingQuery<postgres.Row[]> {
  return sql`(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
}

/**
 * Inside a transaction: throws `LeaseLostError` unless `fence` holds the kernel's lease, and
 * keeps the lease row locked against takeovers (not renewals) until the transaction ends.
 */
async function fenceCheck(
  tx: postgres.TransactionSql,
  kernelId: string,
  fence: LeaseFence | undefined,
): Promise<void> {
  if (!fence) return;
  const [row] = await tx<{ holder: string; epoch: number }[]>`
    SELECT holder, epoch FROM leases WHERE kernel_id = ${kernelId} FOR KEY SHARE`;
  checkFence(kernelId, fence, row);
}

/** A BIGINT column arrives as a string (it may exceed 2^53); times and sizes fit a number. */
function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
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
    lastSavedAt: nullableNumber(row.last_saved_at),
    slot: row.slot === null ? null : String(row.slot),
  };
}

function toSession(row: Row): SessionRecord {
  return {
    id: String(row.id),
    createdAt: Number(row.created_at),
    lastInitializedAt: Number(row.last_initialized_at),
    lastActiveAt: Number(row.last_active_at),
    metadata: JSON.parse(String(row.metadata)),
    endedAt: nullableNumber(row.ended_at),
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
    untoldLoss: row.untold_loss === null ? null : JSON.parse(String(row.untold_loss)),
    quarantined: row.quarantined_at === null
      ? null
      : { at: Number(row.quarantined_at), reason: String(row.quarantine_reason) },
  };
}
