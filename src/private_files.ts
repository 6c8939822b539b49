/**
 * The data folder and the registry are private to the user who runs the host: the folder 0700,
 * the database 0600 (SQLite gives its `-wal` and `-shm` files the database's mode). Other local
 * users could otherwise read session and kernel ids, and with them run code in a session.
 *
 * @module
 */

/** Creates `path` (and its parents) if missing and makes it 0700. */
export async function ensurePrivateFolder(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  // An existing folder (made by an earlier version, or by hand) is tightened too.
  await Deno.chmod(path, 0o700);
}

/** Creates `path` empty if missing and makes it 0600, before anything is written into it. */
export async function ensurePrivateFile(path: string): Promise<void> {
  try {
    await Deno.writeFile(path, new Uint8Array(0), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  await Deno.chmod(path, 0o600);
}
