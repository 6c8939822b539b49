/**
 * The host's side of a cell's `npm:` imports: sandboxes never download (`--cached-only`), so
 * before a cell runs, the host fetches the packages it names into the npm cache that sandboxes
 * read, with `deno cache` under the host's own environment (see `deno_env.ts`), and tells the
 * kernel what it fetched and what it refused.
 *
 * Found are the cell's literal specifiers and those of the scratch-folder files it imports by a
 * literal path, and of the files those import in turn. Not found: a specifier computed at run
 * time (the kernel refuses it with the rule), and the imports of a file imported by a computed
 * path or rewritten after the cell started (Deno then reports the package missing from the
 * cache).
 *
 * @module
 */
import { parse, type Program } from "acorn";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stripTypes } from "./cell_compiler.ts";
import { emptyHome, fetchEnv } from "./deno_env.ts";
import { type ModuleImports, moduleImports, npmRefusal } from "./npm_imports.ts";
import type { NpmReadiness } from "./protocol.ts";

/** How to fetch a cell's packages. */
export interface PrefetchOptions {
  /** Absolute path of the kernel's scratch folder, where relative file imports are read. */
  scratchDir: string;
  /** The `deno` executable to run: the one that runs the sandboxes. */
  deno: string;
  /** Packages kernels may import (`--npm-allow`); `undefined` (the default): every package. */
  allow?: readonly string[];
  /** Stops the fetch (the cell's timeout or cancel); what was not fetched is refused. */
  signal?: AbortSignal;
}

/** Files read to find imports, at most, per cell, and bytes read of each. */
const MAX_FILES = 200;
const MAX_FILE_BYTES = 2 * 2 ** 20;
/** Characters of `deno cache`'s error kept in the message to the cell. */
const MAX_REASON = 600;

/**
 * Specifiers fetched by this process. The npm cache only grows, so one successful fetch is
 * enough: a cell that imports a package fetched before costs no subprocess.
 */
const fetched = new Set<string>();

/**
 * Fetches the `npm:` packages that code importing `imports` will need.
 *
 * @returns What the kernel may import and what it must refuse, or `undefined` when the code
 * imports no npm package (no subprocess is run then).
 */
export async function prefetchNpm(
  imports: ModuleImports,
  options: PrefetchOptions,
): Promise<NpmReadiness | undefined> {
  const specifiers = new Set(imports.npm);
  if (imports.files.length > 0) {
    for (const s of await fileImports(imports.files, options.scratchDir)) specifiers.add(s);
  }
  if (specifiers.size === 0) return undefined;
  const readiness: NpmReadiness = { fetched: [], refused: {} };
  const missing: string[] = [];
  for (const specifier of specifiers) {
    const refusal = npmRefusal(specifier, options.allow);
    if (refusal) readiness.refused[specifier] = refusal;
    else if (fetched.has(specifier)) readiness.fetched.push(specifier);
    else missing.push(specifier);
  }
  if (missing.length === 0) return readiness;
  // One `deno cache` for all; only when it fails, one per specifier, to name the culprits.
  const batch = await denoCache(missing, options);
  const outcomes = batch === undefined || missing.length === 1
    ? missing.map((s) => [s, batch] as const)
    : await Promise.all(missing.map(async (s) => [s, await denoCache([s], options)] as const));
  for (const [specifier, error] of outcomes) {
    if (error === undefined) {
      fetched.add(specifier);
      readiness.fetched.push(specifier);
    } else {
      readiness.refused[specifier] = `Cannot import "${specifier}": the host could not fetch ` +
        `it: ${error}`;
    }
  }
  return readiness;
}

/** Runs `deno cache`; resolves with its error in a few lines, `undefined` on success. */
async function denoCache(
  specifiers: string[],
  options: PrefetchOptions,
): Promise<string | undefined> {
  if (options.signal?.aborted) return stopped();
  try {
    const output = await new Deno.Command(options.deno, {
      args: ["cache", "--quiet", "--no-config", "--no-lock", ...specifiers],
      // Not the scratch folder: Deno would read an `.npmrc` a cell put there.
      cwd: await emptyHome(),
      clearEnv: true,
      env: fetchEnv(),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: options.signal,
    }).output();
    if (output.success) return undefined;
    if (options.signal?.aborted) return stopped();
    const text = new TextDecoder().decode(output.stderr).replace(/^error: /gm, "").trim();
    return (text || `deno cache exited with code ${output.code}`).slice(0, MAX_REASON);
  } catch (error) {
    return options.signal?.aborted ? stopped() : (error as Error).message;
  }
}

function stopped(): string {
  return "the fetch was stopped (the cell was cancelled or ran out of time)";
}

/**
 * The `npm:` specifiers of scratch-folder files imported by literal path, and of the files
 * they import, within the scratch folder; files outside it the kernel refuses anyway.
 */
async function fileImports(files: string[], scratchDir: string): Promise<string[]> {
  const root = pathToFileURL(scratchDir.endsWith("/") ? scratchDir : `${scratchDir}/`);
  const npm = new Set<string>();
  const seen = new Set<string>();
  const queue = files.map((specifier) => new URL(specifier, root));
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const url = queue.shift()!;
    url.search = "";
    url.hash = "";
    if (url.protocol !== "file:" || !url.pathname.startsWith(root.pathname)) continue;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const program = await readProgram(fileURLToPath(url));
    if (!program) continue;
    const found = moduleImports(program);
    for (const s of found.npm) npm.add(s);
    for (const s of found.files) queue.push(new URL(s, url));
  }
  return [...npm];
}

/** A file parsed as a module; `undefined` when it is missing, too large or does not parse. */
async function readProgram(path: string): Promise<Program | undefined> {
  try {
    if ((await Deno.stat(path)).size > MAX_FILE_BYTES) return undefined;
    const text = await Deno.readTextFile(path);
    const code = /^\.[mc]?tsx?$/.test(extname(path)) ? stripTypes(text) : text;
    return parse(code, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch {
    // Deno reports a missing file or a syntax error in its own words when the cell imports it.
    return undefined;
  }
}
