/**
 * Opens the registry a host is configured for: SQLite at `<dataDir>/registry.db`, the embedded
 * default.
 *
 * @module
 */
import { join } from "node:path";
import type { Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite/sqlite_registry.ts";

/**
 * Opens (creating the folder and the database on first use) the registry in `dataDir`.
 *
 * @throws {Error} When the folder cannot be created or the database cannot be used.
 */
export async function openRegistry(options: { dataDir: string }): Promise<Registry> {
  await Deno.mkdir(options.dataDir, { recursive: true });
  return await openSqliteRegistry(join(options.dataDir, "registry.db"));
}
