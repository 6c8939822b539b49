/**
 * Opens the registry a host is configured for: SQLite at `<dataDir>/registry.db`, the embedded
 * default, or the PostgreSQL database that `--registry postgres://…` names.
 *
 * @module
 */
import { join } from "node:path";
import { ensurePrivateFile, ensurePrivateFolder } from "../private_files.ts";
import { openPostgresRegistry } from "./postgres/postgres_registry.ts";
import type { Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite/sqlite_registry.ts";

/**
 * Opens (creating the folder and the database or schema on first use) the configured registry.
 * The data folder is made 0700 either way, as the kernels' scratch folders live in it; a SQLite
 * database is made 0600.
 *
 * @param options.registryUrl A `postgres://` URL; absent: SQLite in `dataDir`.
 * @throws {Error} When the folder cannot be created or the database cannot be used.
 */
export async function openRegistry(
  options: { dataDir: string; registryUrl?: string },
): Promise<Registry> {
  await ensurePrivateFolder(options.dataDir);
  if (options.registryUrl !== undefined) return await openPostgresRegistry(options.registryUrl);
  const path = join(options.dataDir, "registry.db");
  await ensurePrivateFile(path);
  return await openSqliteRegistry(path);
}
