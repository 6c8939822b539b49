/**
 * Large snapshot bodies in SQLite, written and read in pieces so the host's event loop never
 * waits on one long statement: `node:sqlite` is synchronous, and a 100 MB body in one
 * statement held the loop for over half a second. Each piece is 1 MiB of the body in its own
 * short transaction, with a turn of the event loop between pieces; the snapshot row that makes
 * the version visible is written last, by the caller, in one short transaction. Until then the
 * pieces belong to no snapshot: a failed or interrupted write leaves pieces that are swept
 * later, and never a partial version.
 *
 * @module
 */
import type { StatementSync } from "node:sqlite";

/** Bytes per piece. */
export const CHUNK_BYTES = 1 << 20;

/** Gives the event loop a turn. `setImmediate` would not: Deno then starves pipes and sockets. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs SQL through the registry's cache of prepared statements. */
export type Prepare = (sql: string) => StatementSync;

/**
 * The `snapshot_chunks` table: pieces keyed by kernel, version and sequence number, and the
 * versions this process is writing now (their pieces are not leftovers).
 */
export class ChunkedBodies {
  #prepare: Prepare;
  #isOpen: () => boolean;
  /** Versions being written, by kernel. */
  #writing = new Map<string, Set<number>>();
  /** Sweeps running, so that closing can wait for them to stop. */
  #sweeps = new Set<Promise<void>>();

  /**
   * @param prepare The registry's prepared-statement cache.
   * @param isOpen Whether the database is still open; a sweep stops when it is not.
   */
  constructor(prepare: Prepare, isOpen: () => boolean) {
    this.#prepare = prepare;
    this.#isOpen = isOpen;
  }

  /** The highest version that has pieces stored or being written for `kernelId`, or 0. */
  highestVersion(kernelId: string): number {
    const { top } = this.#prepare(
      "SELECT COALESCE(MAX(version), 0) AS top FROM snapshot_chunks WHERE kernel_id = ?",
    ).get(kernelId) as { top: number };
    return Math.max(top, ...(this.#writing.get(kernelId) ?? []));
  }

  /**
   * Writes `body` as the pieces of `version`, yielding between pieces. Call it synchronously
   * after choosing `version` (see {@linkcode highestVersion}): the version is reserved from the
   * call on. Then call {@linkcode finish} in the transaction that makes it visible, or, if
   * that is not reached, {@linkcode abandon}.
   *
   * @returns How many pieces, and the body's size in bytes.
   */
  async write(
    kernelId: string,
    version: number,
    body: Uint8Array,
  ): Promise<{ chunks: number; size: number }> {
    const writing = this.#writing.get(kernelId) ?? new Set<number>();
    this.#writing.set(kernelId, writing);
    writing.add(version);
    let seq = 0;
    for (let at = 0; at < body.length; seq++, at += CHUNK_BYTES) {
      this.#prepare(
        "INSERT INTO snapshot_chunks (kernel_id, version, seq, data) VALUES (?, ?, ?, ?)",
      ).run(kernelId, version, seq, body.subarray(at, at + CHUNK_BYTES));
      await turn();
    }
    return { chunks: seq, size: body.length };
  }

  /**
   * Ends the write of `version`, inside the transaction that makes it visible.
   *
   * @throws {Error} When some of its pieces are gone (another process swept them).
   */
  finish(kernelId: string, version: number, chunks: number): void {
    this.#writing.get(kernelId)?.delete(version);
    const { n } = this.#prepare(
      "SELECT COUNT(*) AS n FROM snapshot_chunks WHERE kernel_id = ? AND version = ?",
    ).get(kernelId, version) as { n: number };
    if (n !== chunks) {
      throw new Error(
        `Cannot save snapshot version ${version}: ${chunks - n} of its ${chunks} body pieces ` +
          "were removed while it was written",
      );
    }
  }

  /** Forgets a write that did not become visible; its pieces are swept in the background. */
  abandon(kernelId: string, version: number): void {
    this.#writing.get(kernelId)?.delete(version);
    this.sweep(kernelId);
  }

  /**
   * Reads the `chunks` pieces of `version` back into one array of `size` bytes, yielding
   * between pieces (each is copied in as it is read: no copy of the whole at the end). A body
   * written as text before bodies were bytes has pieces of its UTF-8, read back the same way.
   *
   * @returns `undefined` when a piece is gone because the version was deleted meanwhile.
   * @throws {Error} When a piece is missing from a version that still exists, or the pieces
   *   do not add up to `size`.
   */
  async read(
    kernelId: string,
    version: number,
    chunks: number,
    size: number,
    exists: () => boolean,
  ): Promise<Uint8Array | undefined> {
    const body = new Uint8Array(size);
    let at = 0;
    for (let seq = 0; seq < chunks; seq++) {
      if (seq > 0) await turn();
      const row = this.#prepare(
        "SELECT data FROM snapshot_chunks WHERE kernel_id = ? AND version = ? AND seq = ?",
      ).get(kernelId, version, seq) as { data: Uint8Array } | undefined;
      if (!row) {
        if (!exists()) return undefined;
        throw new Error(`Cannot load snapshot version ${version}: body piece ${seq} is missing`);
      }
      if (at + row.data.length > size) break;
      body.set(row.data, at);
      at += row.data.length;
    }
    if (at !== size) {
      throw new Error(`Cannot load snapshot version ${version}: its pieces are not its size`);
    }
    return body;
  }

  /**
   * Deletes, in the background and one piece per transaction, the pieces of `kernelId` that
   * belong to no snapshot and to no write in progress: versions pruned or closed, and writes
   * that failed or were cut short by a crash.
   */
  sweep(kernelId: string): void {
    const run = this.#sweep(kernelId).catch(() => {
      // Left for the next sweep: a failed delete changes nothing visible.
    });
    this.#sweeps.add(run);
    run.finally(() => this.#sweeps.delete(run));
  }

  async #sweep(kernelId: string): Promise<void> {
    for (const { version, seq } of this.#leftovers(kernelId)) {
      await turn();
      if (!this.#isOpen()) return;
      if (this.#writing.get(kernelId)?.has(version)) continue;
      this.#prepare(
        `DELETE FROM snapshot_chunks WHERE kernel_id = ? AND version = ? AND seq = ? AND NOT EXISTS (
           SELECT 1 FROM snapshots WHERE kernel_id = ? AND version = ?)`,
      ).run(kernelId, version, seq, kernelId, version);
    }
  }

  #leftovers(kernelId: string): { version: number; seq: number }[] {
    const writing = this.#writing.get(kernelId) ?? new Set<number>();
    const rows = this.#prepare(
      `SELECT version, seq FROM snapshot_chunks c WHERE kernel_id = ? AND NOT EXISTS (
         SELECT 1 FROM snapshots s WHERE s.kernel_id = c.kernel_id AND s.version = c.version)`,
    ).all(kernelId) as { version: number; seq: number }[];
    return rows.filter((r) => !writing.has(r.version));
  }

  /**
   * Deletes at once the leftover pieces of kernels no process runs (state `stored` or
   * `closed`): at open, before any write of this process starts.
   */
  sweepIdle(): void {
    this.#prepare(
      `DELETE FROM snapshot_chunks WHERE kernel_id IN (
         SELECT id FROM kernels WHERE state != 'live') AND NOT EXISTS (
         SELECT 1 FROM snapshots s
         WHERE s.kernel_id = snapshot_chunks.kernel_id AND s.version = snapshot_chunks.version)`,
    ).run();
  }

  /** Waits for the sweeps in flight; they stop at their next step once the database closes. */
  async settle(): Promise<void> {
    while (this.#sweeps.size > 0) await Promise.all(this.#sweeps);
  }
}
