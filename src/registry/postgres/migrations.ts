/**
 * The PostgreSQL registry's schema, as an ordered list of migrations, kept apart from SQLite's:
 * the two dialects differ and each list grows on its own. `schema_version` holds the number of
 * migrations applied; never edit a shipped migration, append a new one.
 *
 * @module
 */

/** SQL run in order; index + 1 is the schema version it produces. */
export const MIGRATIONS: readonly string[] = [
  // The SQLite schema as of its fifth migration, in one step. Times are milliseconds since the
  // epoch (BIGINT); JSON fields are TEXT as written, because jsonb refuses "\u0000" in strings
  // and reorders keys.
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    last_initialized_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    ended_at BIGINT
  );
  CREATE TABLE kernels (
    id TEXT PRIMARY KEY,
    owner_session TEXT REFERENCES sessions(id),
    name TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('live', 'stored', 'closed')),
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    execution_count INTEGER NOT NULL DEFAULT 0,
    last_saved_at BIGINT,
    slot TEXT UNIQUE
  );
  CREATE INDEX kernels_by_state ON kernels(state, last_active_at);
  CREATE INDEX kernels_by_owner ON kernels(owner_session);
  CREATE TABLE snapshots (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    version INTEGER NOT NULL,
    saved_at BIGINT NOT NULL,
    size BIGINT NOT NULL,
    format INTEGER NOT NULL,
    execution_count INTEGER NOT NULL,
    body TEXT NOT NULL,
    skipped TEXT NOT NULL DEFAULT '[]',
    quarantined_at BIGINT,
    quarantine_reason TEXT,
    PRIMARY KEY (kernel_id, version)
  );
  CREATE TABLE session_kernels (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    first_used_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, kernel_id)
  );
  CREATE TABLE cells (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    cell INTEGER NOT NULL,
    declared TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (kernel_id, cell)
  );
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // Leases: which host runs a kernel (see LeaseFence), and the kernels' scratch files, which
  // travel with them from host to host. expires_at is milliseconds since the epoch
  // by the database's clock, 0 once released; no foreign key, as a lease may come before its
  // kernel's record.
  `
  CREATE TABLE leases (
    kernel_id TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    wanted_by TEXT
  );
  CREATE TABLE kernel_files (
    kernel_id TEXT NOT NULL REFERENCES kernels(id),
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (kernel_id, path)
  );
  `,
  // A loss no client was sure to have heard of when the snapshot was taken (JSON: UntoldLoss).
  `
  ALTER TABLE snapshots ADD COLUMN untold_loss TEXT;
  `,
  // Bodies are bytes (a binary body carries typed arrays raw beside its JSON); a body saved as
  // text becomes its UTF-8, which a kernel reads as it read the text.
  `
  ALTER TABLE snapshots ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
  `,
];
