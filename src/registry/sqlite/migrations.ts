/**
 * The registry's schema, as an ordered list of migrations. The database's `user_version` is the
 * number of migrations applied; never edit a shipped migration, append a new one.
 *
 * @module
 */

/** SQL run in order; index + 1 is the schema version it produces. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    last_initialized_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    ended_at INTEGER
  );
  CREATE TABLE kernels (
    id TEXT PRIMARY KEY,
    owner_session TEXT REFERENCES sessions(id),
    name TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('live', 'stored', 'closed')),
    created_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    execution_count INTEGER NOT NULL DEFAULT 0,
    last_saved_at INTEGER
  );
  CREATE INDEX kernels_by_state ON kernels(state, last_active_at);
  CREATE TABLE snapshots (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    version INTEGER NOT NULL,
    saved_at INTEGER NOT NULL,
    size INTEGER NOT NULL,
    format INTEGER NOT NULL,
    execution_count INTEGER NOT NULL,
    body TEXT NOT NULL,
    skipped TEXT NOT NULL DEFAULT '[]',
    quarantined_at INTEGER,
    quarantine_reason TEXT,
    PRIMARY KEY (kernel_id, version)
  );
  `,
  `
  CREATE TABLE session_kernels (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    first_used_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, kernel_id)
  );
  CREATE INDEX kernels_by_owner ON kernels(owner_session);
  `,
  `
  CREATE TABLE cells (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    cell INTEGER NOT NULL,
    declared TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (kernel_id, cell)
  );
  `,
  `
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE kernels ADD COLUMN slot TEXT;
  CREATE UNIQUE INDEX kernels_by_slot ON kernels(slot) WHERE slot IS NOT NULL;
  `,
  // Large bodies in pieces (chunked_bodies.ts); a row with chunks = 0 keeps its body inline.
  `
  ALTER TABLE snapshots ADD COLUMN chunks INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE snapshot_chunks (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    version INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kernel_id, version, seq)
  );
  `,
  // Leases and moving scratch files (several hosts over a shared registry).
  `
  CREATE TABLE leases (
    kernel_id TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    wanted_by TEXT
  );
  CREATE TABLE kernel_files (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kernel_id, path)
  );
  `,
  // A loss no client was sure to have heard of when the snapshot was taken (JSON: UntoldLoss).
  `
  ALTER TABLE snapshots ADD COLUMN untold_loss TEXT;
  `,
];
