/**
 * The `npm:` packages a kernel's scratch-folder modules may import, found by pattern rather than
 * by parsing, so that the host (before a cell runs, to look them up in the npm cache) and the
 * kernel (before it imports a module, to refuse what was not found) find exactly the same ones. Every quoted
 * `npm:` specifier counts, in comments and strings too, and every quoted relative path that
 * names a file of the scratch folder is read in turn. A sandbox must never try an npm package
 * that is not in the cache: under `--cached-only` it would fail again for the rest of its life.
 *
 * It lives in the Worker's folder because a sandbox may read only that folder.
 *
 * @module
 */

/** Modules read at most per scan, and bytes of each. */
const MAX_FILES = 200;
const MAX_FILE_BYTES = 2 * 2 ** 20;

const NPM = /["'`](npm:[^"'`\s]+)["'`]/g;
const RELATIVE = /["'`](\.{1,2}\/[^"'`\s]+)["'`]/g;

/**
 * The `npm:` specifiers mentioned by the given modules and by the scratch-folder files they
 * mention in turn. Missing, unreadable or overlarge files add nothing (Deno reports a missing
 * module in its own words on import).
 *
 * @param modules `file:` URLs of the modules to start from.
 * @param scratchDir Absolute path of the scratch folder; no file outside it is read.
 */
export async function mentionedNpm(modules: URL[], scratchDir: string): Promise<string[]> {
  const root = new URL(`file://${scratchDir.endsWith("/") ? scratchDir : `${scratchDir}/`}`);
  const npm = new Set<string>();
  const seen = new Set<string>();
  const queue = [...modules];
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const url = new URL(queue.shift()!);
    url.search = "";
    url.hash = "";
    if (url.protocol !== "file:" || !url.pathname.startsWith(root.pathname)) continue;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const text = await readSmall(url);
    if (text === undefined) continue;
    for (const [, specifier] of text.matchAll(NPM)) npm.add(specifier!);
    for (const [, relative] of text.matchAll(RELATIVE)) queue.push(new URL(relative!, url));
  }
  return [...npm];
}

async function readSmall(url: URL): Promise<string | undefined> {
  try {
    if ((await Deno.stat(url)).size > MAX_FILE_BYTES) return undefined;
    return await Deno.readTextFile(url);
  } catch {
    return undefined;
  }
}
