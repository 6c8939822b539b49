/**
 * Opens the registry a host is configured for: SQLite at `<dataDir>/registry.db`, the embedded
 * default.
 *
 * @module
 */
import { join } from "node:path";
import { ensurePrivateFile, ensurePrivateFolder } from "../private_files.ts";
import type { Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite/sqlite_registry.ts";

/**
 * Opens (creating the folder and the database on first use) the registry in `dataDir`; the folder
 * is made 0700 and the database 0600.
 *
 * @throws {Error} When the folder cannot be created or the database cannot be used.
 */
export async function openRegistry(options: { dataDir: string }): Promise<Registry> {
  await ensurePrivateFolder(options.dataDir);
  const path = join(options.dataDir, "registry.db");
  await ensurePrivateFile(path);
  return await openSqliteRegistry(path);
}
