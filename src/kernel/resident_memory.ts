/**
 * A sandbox process's resident memory, read from `/proc` (Linux).
 *
 * @module
 */

/** Resident bytes of process `pid`, or `null` where they cannot be read. */
export async function residentBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const [, resident] = (await Deno.readTextFile(`/proc/${pid}/statm`)).split(" ");
    return Number(resident) * 4096;
  } catch {
    return null;
  }
}
