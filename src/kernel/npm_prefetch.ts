/**
 * The host's side of a cell's `npm:` imports: sandboxes never download (`--cached-only`), so
 * before a cell runs, the host fetches the packages it names into the npm cache that sandboxes
 * read, with `deno cache` under the host's own environment (see `deno_env.ts`), and tells the
 * kernel what it fetched and what it refused.
 *
 * Fetched are the cell's literal specifiers: text the agent wrote. The packages that the
 * scratch-folder modules it imports by a literal path mention (and the modules those mention in
 * turn, see `module_mentions.ts`) are only looked up in the cache, never downloaded: a module's
 * text may be data a cell computed, and the registry would learn it from the download. A
 * specifier computed at run time is not found: the kernel refuses it with the rule, and refuses
 * a module whose packages were not found (written after the cell started, or imported by a
 * computed path); the next cell that imports it literally has them looked up.
 *
 * @module
 */
import { emptyHome, fetchEnv, lookupEnv } from "./deno_env.ts";
import { type ModuleImports, npmRefusal } from "./npm_imports.ts";
import type { NpmReadiness } from "./protocol.ts";
import { mentionedNpm } from "./worker/module_mentions.ts";

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
  const named = new Set(imports.npm);
  const mentioned = new Set<string>();
  if (imports.files.length > 0) {
    const base = new URL(`file://${options.scratchDir.replace(/\/?$/, "/")}`);
    const modules = imports.files.map((file) => new URL(file, base));
    for (const s of await mentionedNpm(modules, options.scratchDir)) {
      if (!named.has(s)) mentioned.add(s);
    }
  }
  if (named.size === 0 && mentioned.size === 0) return undefined;
  const readiness: NpmReadiness = { fetched: [], refused: {} };
  const toFetch: string[] = [];
  const toFind: string[] = [];
  for (const specifier of [...named, ...mentioned]) {
    const refusal = npmRefusal(specifier, options.allow);
    if (refusal) readiness.refused[specifier] = refusal;
    else if (fetched.has(specifier)) readiness.fetched.push(specifier);
    else (named.has(specifier) ? toFetch : toFind).push(specifier);
  }
  const [downloaded, found] = await Promise.all([
    denoCacheEach(toFetch, options, false),
    denoCacheEach(toFind, options, true),
  ]);
  for (const [specifier, error] of downloaded) {
    settle(readiness, specifier, error === undefined ? undefined : fetchFailed(error));
  }
  for (const [specifier, error] of found) {
    const refusal = error === undefined || options.signal?.aborted ? error : notCached(specifier);
    settle(readiness, specifier, refusal);
  }
  return readiness;
}

function settle(readiness: NpmReadiness, specifier: string, refusal: string | undefined): void {
  if (refusal === undefined) {
    fetched.add(specifier);
    readiness.fetched.push(specifier);
  } else {
    readiness.refused[specifier] = `Cannot import "${specifier}": ${refusal}`;
  }
}

function fetchFailed(error: string): string {
  return `the host could not fetch it: ${error}`;
}

/**
 * Why a package a module mentions is not fetched: a file's text may be data a cell wrote, and
 * a download it asked for would tell the registry that data (`npm:exfil-<secret>`).
 */
function notCached(specifier: string): string {
  return "a scratch-folder module imports it, and the host downloads only the packages a cell " +
    `names in its own text: import "${specifier}" in a cell first`;
}

/**
 * Downloads each specifier with a `deno cache` of its own, one after another in the cell's
 * order, as a kernel imports them. One `deno cache` of several shares versions between them,
 * which a kernel's process does not: found by the notebook test when d3-array 3.2.5 was
 * published, `deno cache npm:vega@6 npm:vega-lite@6` reused a cached d3-array 3.2.4, while a
 * kernel importing vega, then vega-lite, asked for 3.2.5 and, `--cached-only`, failed for the
 * rest of its process. Parallel runs on one cache raced (a version missing afterwards).
 *
 * With `cachedOnly`, nothing is downloaded (see `lookupEnv`): it only finds whether each is in
 * the cache, in one run (a module's graph is resolved at once), and only when that fails one
 * per specifier, to name the culprits.
 *
 * @returns Each specifier with its error, `undefined` for those now in the cache.
 */
async function denoCacheEach(
  specifiers: string[],
  options: PrefetchOptions,
  cachedOnly: boolean,
): Promise<(readonly [string, string | undefined])[]> {
  if (specifiers.length === 0) return [];
  const one = (s: string) => denoCache([s], options, cachedOnly).then((e) => [s, e] as const);
  if (!cachedOnly) {
    const each: (readonly [string, string | undefined])[] = [];
    for (const specifier of specifiers) each.push(await one(specifier));
    return each;
  }
  const batch = await denoCache(specifiers, options, cachedOnly);
  if (batch === undefined || specifiers.length === 1) return specifiers.map((s) => [s, batch]);
  return await Promise.all(specifiers.map(one));
}

/** Runs `deno cache`; resolves with its error in a few lines, `undefined` on success. */
async function denoCache(
  specifiers: string[],
  options: PrefetchOptions,
  cachedOnly: boolean,
): Promise<string | undefined> {
  if (options.signal?.aborted) return stopped();
  try {
    const output = await new Deno.Command(options.deno, {
      args: ["cache", "--quiet", "--no-config", "--no-lock", ...specifiers],
      // Not the scratch folder: Deno would read an `.npmrc` a cell put there.
      cwd: await emptyHome(),
      clearEnv: true,
      env: cachedOnly ? lookupEnv(await emptyHome()) : fetchEnv(),
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
